"""Evaluation: predictions, metrics, plots.

Calling the package, ``lsctl.evaluate(run, data, …)``, runs
:func:`lsctl.api.runs.evaluate`.
"""

from lsctl.api.callable import make_callable

make_callable(__name__, "lsctl.api.runs.evaluate")
