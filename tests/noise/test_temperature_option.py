"""`lsctl noise --kind instance --temperature τ` reaches the noise model."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lsctl.noise.instance import instance_noise, keyword_relevance

WORDS = {
    "ant": ["colony", "queen", "tunnel", "soil"],
    "bee": ["hive", "honey", "queen", "flower"],
    "cat": ["whisker", "purr", "tunnel", "mouse"],
}


def test_temperature_reaches_the_instance_model(cli, tmp_path):
    rng = np.random.default_rng(3)
    labels = sorted(WORDS)
    every = [w for ws in WORDS.values() for w in ws]
    gold = [labels[i % 3] for i in range(240)]
    texts = [" ".join([*rng.choice(WORDS[g], 2), *rng.choice(every, 3)]) for g in gold]
    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": texts, "label": gold}), data)

    y = np.array([labels.index(g) for g in gold])
    ilr = keyword_relevance(texts, y, 3)
    noisy, margin = {}, None
    for tau in (0.05, 2.0):
        out = tmp_path / f"n{tau}.parquet"
        args = ["--kind", "instance", "--rate", "0.3", "--seed", "4", "--temperature", tau]
        r = cli("noise", data, "-o", out, *args, "-q")
        assert r.exit_code == 0, r.stderr
        t = pq.read_table(out)
        noisy[tau] = [labels.index(v) for v in t.column("label").to_pylist()]
        meta = json.loads(t.schema.metadata[b"lsctl"])
        assert meta["noise"]["temperature"] == tau
        want, detail = instance_noise(ilr, y, 0.3, 4, temperature=tau)
        assert noisy[tau] == want.noisy.tolist()
        assert meta["noise"]["offset"] == detail.offset
        margin = detail.margin
    # A cold temperature concentrates the flips on the most confusable texts
    # (largest margin S[i, t_i] − S[i, y_i]).
    rank = np.argsort(np.argsort(margin))

    def mean_rank(tau):
        flipped = np.array(noisy[tau]) != y
        return rank[flipped].mean()

    assert mean_rank(0.05) > mean_rank(2.0) + 10
