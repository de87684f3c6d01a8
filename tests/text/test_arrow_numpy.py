"""Arrow↔NumPy helpers that keep pandas out of the softlabel process."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from lsctl.artifacts.columns import as_numpy, numpy_array, string_array


@pytest.mark.parametrize(
    "arr",
    [
        pa.array([1, 2, None, 4, 5, 6, 7, 8, 9, 10], pa.int32()),
        pa.array([3, 1, 2], pa.uint8()),
        pa.array([True, False, None, True] * 5),
        pa.array([1.5, None, 3.5], pa.float32()),
        pa.array([], pa.int64()),
    ],
)
def test_as_numpy_matches_to_pylist_on_slices(arr):
    for off, n in [(0, len(arr)), (1, min(2, len(arr) - 1)), (min(3, len(arr)), 0)]:
        part = arr.slice(off, max(n, 0))
        expected = [-7 if x is None else x for x in part.to_pylist()]
        got = as_numpy(part, null=-7)
        assert got.tolist() == expected


def test_as_numpy_refuses_nulls_without_fill_and_other_types():
    with pytest.raises(ValueError):
        as_numpy(pa.array([1, None]))
    with pytest.raises(TypeError):
        as_numpy(pa.array(["a"]))


def test_numpy_and_string_array_equal_pa_array():
    x = np.array([3.0, -1.0, 2.5], dtype=np.float32)
    assert numpy_array(x).equals(pa.array(x))
    assert numpy_array(np.arange(5, dtype=np.int64)[1:4]).equals(pa.array([1, 2, 3], pa.int64()))
    words = ["pos", "", "négatif", "日本"]
    assert string_array(words).equals(pa.array(words, pa.string()))
    assert string_array([]).equals(pa.array([], pa.string()))


def test_softlabel_kwls_does_not_import_pandas(tmp_path):
    # pyarrow imports pandas on the first pa.array/to_numpy call: 0.2 s of a 1.5 s run.
    import pyarrow.parquet as pq

    src = tmp_path / "d.parquet"
    pq.write_table(
        pa.table({"text": ["good film", "bad film", "so good"], "label": list("pnp")}), src
    )
    code = (
        "import sys; from lsctl.smoothing.run import softlabel; "
        f"softlabel({str(src)!r}, {str(tmp_path / 'o.parquet')!r}, 'kwls', {{}}); "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
