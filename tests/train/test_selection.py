"""The model-selection and early-stopping policy, on hand-made dev curves."""

from __future__ import annotations

from lsctl.train.selection import Selection


def _run(accs, patience=0, warmup=0):
    s = Selection(patience)
    stopped_at = None
    for epoch, acc in enumerate(accs, start=1):
        s.update(epoch, acc, 1.0 - acc, candidate=epoch > warmup)
        if s.stop:
            stopped_at = epoch
            break
    return s, stopped_at


def test_best_accuracy_wins_and_ties_keep_the_earlier_epoch():
    s, stopped = _run([0.5, 0.7, 0.7, 0.6])
    assert s.epoch == 2 and s.best == {
        "epoch": 2,
        "dev_accuracy": 0.7,
        "dev_nll": 0.30000000000000004,
    }
    assert stopped is None and s.bad_epochs == 2


def test_patience_counts_epochs_without_improvement():
    s, stopped = _run([0.5, 0.6, 0.55, 0.58, 0.9], patience=2)
    assert stopped == 4 and s.epoch == 2


def test_warmup_epochs_are_never_selected_and_do_not_use_patience():
    s, stopped = _run([0.9, 0.95, 0.6, 0.5, 0.4], patience=2, warmup=2)
    assert s.epoch == 3  # epochs 1-2 score higher but are CE warm-up
    assert stopped == 5


def test_no_candidate_yet_means_no_selection():
    s, _ = _run([0.9], warmup=1)
    assert s.best is None and s.epoch is None and not s.stop
