"""Training: models, losses, the loop, checkpoints and run directories.

torch lives only in this package and is imported lazily from the CLI, so
``lsctl --help`` never pays for it. ``config`` and ``data`` are torch-free.
"""
