"""Training: models, losses, the loop, checkpoints and run directories.

torch lives only in this package and is imported lazily from the CLI, so
``lsctl --help`` never pays for it. ``config`` and ``data`` are torch-free.
"""

from lsctl.train.cpu_threads import configure_openmp

# Before any submodule imports torch: libgomp reads its wait policy only once.
configure_openmp()
