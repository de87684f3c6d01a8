"""Model selection and early stopping: which epoch a run keeps, and when it stops.

The policy, apart from the training loop: the best dev accuracy among the
candidate epochs wins (ties keep the earlier epoch); CE warm-up epochs are
never candidates, since a warm-up epoch often has the best dev accuracy of a
short NLS run and selecting it would silently turn the run into plain CE;
patience counts the candidate epochs since the last improvement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Selection:
    """The selection state of one run; ``patience`` 0 never stops early."""

    patience: int = 0
    best: dict[str, Any] | None = None
    bad_epochs: int = 0

    def update(self, epoch: int, dev_accuracy: float, dev_nll: float, candidate: bool) -> bool:
        """Record one epoch's dev scores; True when it is the new selected epoch."""
        if not candidate:
            return False
        if self.best is None or dev_accuracy > self.best["dev_accuracy"]:
            self.best = {"epoch": epoch, "dev_accuracy": dev_accuracy, "dev_nll": dev_nll}
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def stop(self) -> bool:
        """True once ``patience`` candidate epochs in a row did not improve."""
        return bool(self.patience) and self.bad_epochs >= self.patience

    @property
    def epoch(self) -> int | None:
        """The selected epoch, or None before the first candidate."""
        return self.best["epoch"] if self.best else None
