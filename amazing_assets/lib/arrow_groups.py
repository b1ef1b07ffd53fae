"""Group-by building blocks on Arrow arrays shared by the per-customer Arrow code (cleaning rules
and feature aggregates): dense integer group codes, and distinct values per group."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def dense_codes(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Codes ``0..n-1`` of ``values`` as int64, and the value of each code. Null is a value too
    (Spark groups null keys together): it gets its own code."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    labels = encoded.dictionary
    codes = encoded.indices
    if codes.null_count:
        codes = pc.fill_null(codes, len(labels))
        labels = pa.concat_arrays([labels, pa.nulls(1, labels.type)])
    return codes.to_numpy().astype(np.int64), labels


def combined_codes(*columns: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[pa.Array]]:
    """One dense-enough int64 code per distinct combination of ``columns`` (nulls included), and
    each column's labels: ``code = ((c0 * n1) + c1) * n2 + c2 ...``."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    labels = []
    for column in columns:
        codes, column_labels = dense_codes(column)
        code = code * len(column_labels) + codes
        labels.append(column_labels)
    return code, labels


def distinct_per_group(group: np.ndarray, values: pa.Array, space: int) -> np.ndarray:
    """For each group code in ``[0, space)``, how many distinct non-null ``values`` it has: two
    integer group-bys (the distinct pairs, then pairs per group), much cheaper than a hash set
    per group."""
    pairs = (
        pa.table({"group": group, "value": values})
        .filter(pc.is_valid(values))
        .group_by(["group", "value"], use_threads=False)
        .aggregate([])
    )
    return np.bincount(pairs["group"].to_numpy(), minlength=space)


def whole_partition(
    per_task: Callable[[pa.Table], pa.Table], max_rows: int | None = None
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A ``DataFrame.mapInArrow`` body applying ``per_task`` to a Spark partition as one table
    (its batches joined: a customer's rows may span several); the result goes back in batches
    of at most ``max_rows`` rows (one large batch would be one large buffer in the JVM)."""

    def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = list(batches)
        if received:  # an empty partition arrives as no batch at all
            yield from per_task(pa.Table.from_batches(received)).to_batches(max_rows)

    return apply
