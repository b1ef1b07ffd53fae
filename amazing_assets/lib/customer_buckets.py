"""A customer's bucket: Spark's hash partitioning of the user id, computed in numpy.

Spark places a row with ``repartition(n, "user_id")`` in partition ``pmod(hash(user_id), n)``,
``hash`` being Murmur3 (x86, 32-bit) with seed 42. Ingestion writes each month's raw rows in
files of one bucket each with the same function, so the cleaning tasks read whole customers
without a shuffle, and the Spark path (a shuffle by user id) puts every customer in the same
bucket as the files would. Bucket counts are powers of two, so buckets nest: a bucket among
``2n`` modulo ``n`` is the bucket among ``n``.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROWS_PER_BUCKET = 1_000_000
"""Rows one task holds in its Python worker for the per-customer Arrow code (cleaning rules,
feature aggregates): ~0.5 GiB of Arrow data with its sort and hash tables."""
BUCKET_COLUMN = "_bucket"
"""The rows' customer bucket, which a task names its files after: added by
:func:`classify_events` with ``partitions`` and by :func:`.buckets.map_buckets`."""
OUTPUT_BATCH_ROWS = 65_536
"""Rows per batch handed back to Spark (a partition's rows in one batch would be one large
buffer in the JVM)."""
SPARK_HASH_SEED = 42
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)


def _rotate_left(x: np.ndarray, bits: int) -> np.ndarray:
    return (x << np.uint32(bits)) | (x >> np.uint32(32 - bits))


def _mix_k1(k1: np.ndarray) -> np.ndarray:
    return _rotate_left(k1 * _C1, 15) * _C2


def _mix_h1(h1: np.ndarray, k1: np.ndarray) -> np.ndarray:
    return _rotate_left(h1 ^ k1, 13) * np.uint32(5) + np.uint32(0xE6546B64)


def _finish(h1: np.ndarray, length: int) -> np.ndarray:
    h1 = h1 ^ np.uint32(length)
    h1 = (h1 ^ (h1 >> np.uint32(16))) * np.uint32(0x85EBCA6B)
    h1 = (h1 ^ (h1 >> np.uint32(13))) * np.uint32(0xC2B2AE35)
    return h1 ^ (h1 >> np.uint32(16))


def spark_hash(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Spark's ``hash(values)`` (int32) for a 64-bit integer column; a null hashes to the seed."""
    ints = pc.fill_null(values, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    bits = ints.view(np.uint64)
    low = (bits & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    high = (bits >> np.uint64(32)).astype(np.uint32)
    with np.errstate(over="ignore"):
        h1 = _mix_h1(np.full(len(ints), SPARK_HASH_SEED, dtype=np.uint32), _mix_k1(low))
        h1 = _finish(_mix_h1(h1, _mix_k1(high)), 8)
    hashed = h1.view(np.int32)
    nulls = pc.is_null(values).to_numpy(zero_copy_only=False)
    return np.where(nulls, np.int32(SPARK_HASH_SEED), hashed)


def customer_buckets(user_ids: pa.Array | pa.ChunkedArray, count: int) -> np.ndarray:
    """Each row's bucket among ``count``: ``pmod(hash(user_id), count)``, as Spark partitions."""
    return np.mod(spark_hash(user_ids).astype(np.int64), count)


def bucket_count(rows: int, slots: int = 2) -> int:
    """Buckets (tasks) for a per-customer pass over ``rows``: a power of two, at least the
    cluster's task ``slots`` (cores), with at most :data:`ROWS_PER_BUCKET` rows each on average.

    A multiple of the slots leaves no core idle in the last wave (11 tasks on 2 cores ran 6
    waves, the last one on one core). A power of two lets buckets nest (module docstring), so
    months of different sizes can be read together bucket by bucket.
    """
    wanted = max(slots, 2, math.ceil(rows / ROWS_PER_BUCKET))
    return 1 << (wanted - 1).bit_length()
