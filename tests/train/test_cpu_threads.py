"""lsctl's OpenMP wait default: set before torch loads, never over the user's choice."""

from __future__ import annotations

import os
import subprocess
import sys

from lsctl.train.cpu_threads import SPINCOUNT, configure_openmp


def test_sets_the_spin_count_in_an_empty_environment():
    env: dict[str, str] = {}
    assert configure_openmp(env) is True
    assert env == {"GOMP_SPINCOUNT": SPINCOUNT}


def test_the_users_choice_stands():
    for given in ({"GOMP_SPINCOUNT": "7"}, {"OMP_WAIT_POLICY": "active"}):
        env = dict(given)
        assert configure_openmp(env) is False
        assert env == given


def _child(code: str, **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.update(extra)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_importing_lsctl_train_sets_it_before_torch_loads():
    # The CLI and the API reach torch only through lsctl.train, so its
    # __init__ is the last moment libgomp can still see the variable.
    code = (
        "import sys, os, lsctl.train.config\n"
        "print('torch' in sys.modules, os.environ.get('GOMP_SPINCOUNT'))"
    )
    assert _child(code) == f"False {SPINCOUNT}"
    assert _child(code, GOMP_SPINCOUNT="42") == "False 42"


def test_too_late_once_torch_is_loaded():
    code = (
        "import torch, os\n"
        "from lsctl.train.cpu_threads import configure_openmp\n"
        "print(configure_openmp(), os.environ.get('GOMP_SPINCOUNT'))"
    )
    # Importing lsctl.train.cpu_threads runs lsctl/train/__init__ after torch:
    # the package must not pretend the setting took effect.
    out = _child(code)
    assert out == "False None"
