"""All artifact I/O goes through here."""

from lsctl.artifacts.columns import (
    check_distributions,
    ensure_id,
    label_indices,
    parse_labels,
    prob_array,
    prob_matrix,
    require_columns,
    resolve_labels,
    texts,
    vector_labels,
)
from lsctl.artifacts.io import (
    ArtifactReader,
    check_output,
    open_artifact,
    read_artifact,
    sniff,
    write_artifact,
    write_batches,
)
from lsctl.artifacts.meta import SCHEMA_VERSION, file_sha256, make_meta

__all__ = [
    "SCHEMA_VERSION",
    "ArtifactReader",
    "check_distributions",
    "check_output",
    "ensure_id",
    "file_sha256",
    "label_indices",
    "make_meta",
    "open_artifact",
    "parse_labels",
    "prob_array",
    "prob_matrix",
    "read_artifact",
    "require_columns",
    "resolve_labels",
    "sniff",
    "texts",
    "vector_labels",
    "write_artifact",
    "write_batches",
]
