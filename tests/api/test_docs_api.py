"""docs/api.md: every Python example runs as written (offline, tiny models)."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

DOC = REPO / "docs" / "api.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_has_the_promised_examples():
    code = "\n".join(_blocks())
    for needle in ("lsctl.soft_labels(", "Trainer(", "lsctl.add_noise(", "lsctl.compare("):
        assert needle in code, needle


@pytest.mark.slow  # fine-tunes a tiny transformer and trains four TextCNNs (about 15 s)
def test_examples_run(tmp_path, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    namespace: dict = {}
    try:
        # Blocks run in order in one namespace, as a reader pasting them would.
        for i, block in enumerate(_blocks()):
            exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)
    finally:
        torch.set_num_threads(old)
    assert namespace["soft"].attrs["labels"] == ["neg", "pos"]
    # Noise example: the matrix draw keeps class 2 (T's row for it is one-hot), and the
    # under-sampled class keeps round(0.1 · 100) = 10 rows.
    y, noisy = namespace["y"], namespace["noisy"]
    assert (noisy.labels[y == 2] == 2).all()
    assert len(namespace["keep"]) == 210
    rows = namespace["cmp"].rows
    assert [(r["system"], r["baseline"]) for r in rows] == [("kwls", "ce")]
