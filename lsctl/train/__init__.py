"""Training: models, losses, the loop, checkpoints and run directories.

torch lives only in this package and is imported lazily from the CLI, so
``lsctl --help`` never pays for it. ``config`` and ``data`` are torch-free.

Calling the package, ``lsctl.train(data, output, …)``, runs
:func:`lsctl.api.runs.train`.
"""

from lsctl.api.callable import make_callable
from lsctl.train.cpu_threads import configure_openmp

make_callable(__name__, "lsctl.api.runs.train")

# Before any submodule imports torch: libgomp reads its wait policy only once.
configure_openmp()
