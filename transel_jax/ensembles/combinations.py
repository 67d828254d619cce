"""Candidate ensembles as index arrays: every C(N, S) subset, and validation of explicit lists."""
from __future__ import annotations

import itertools
import math

import numpy as np

from transel_jax import checks


def num_ensembles(num_sources: int, size: int) -> int:
    return math.comb(num_sources, size)


def all_ensembles(num_sources: int, size: int) -> np.ndarray:
    """Every size-``size`` subset of range(num_sources), int32 [C(N, S), S], lexicographic, sorted rows.

    >>> all_ensembles(4, 3).tolist()
    [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]
    """
    checks.check_positive_int(num_sources, "num_sources")
    checks.check_positive_int(size, "size")
    if size > num_sources:
        raise ValueError(f"size: expected an ensemble size S <= N = {num_sources} sources, got S = {size}")
    count = num_ensembles(num_sources, size)
    flat = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(num_sources), size)),
        dtype=np.int32,
        count=count * size,
    )
    return flat.reshape(count, size)


def validate_ensembles(ensembles, num_sources: int) -> np.ndarray:
    """Check an explicit [E, S] member-index array; returns it as int32.

    Raises ValueError for a ragged list, a wrong rank, an empty list, an index outside 0..N-1, or an
    ensemble that lists the same source twice; TypeError for non-integer indices.
    """
    if ensembles is None or isinstance(ensembles, (str, bytes)):
        raise TypeError(f"ensembles: expected an int [E, S] array of member indices, got {ensembles!r}")
    try:
        arr = np.asarray(ensembles)
    except ValueError:
        arr = None
    if arr is None or arr.dtype == object:
        lengths = sorted({len(row) for row in ensembles}) if hasattr(ensembles, "__iter__") else []
        raise ValueError(f"ensembles: expected an [E, S] array with S members in every ensemble, got a ragged "
                         f"list (ensemble lengths {lengths})")
    checks.check_rank(arr, "ensembles", 2, "[E, S]")
    checks.check_nonempty(arr, "ensembles", what="ensembles")
    checks.check_integer(arr, "ensembles")
    if arr.shape[1] == 0:
        raise ValueError("ensembles: expected at least one member per ensemble (S >= 1), got S = 0")
    checks.check_labels(arr, "ensembles", 0, num_sources - 1)
    srt = np.sort(arr, axis=1)
    dup = np.nonzero(np.any(srt[:, 1:] == srt[:, :-1], axis=1))[0]
    if dup.size:
        raise ValueError(
            f"ensembles: expected distinct members in every ensemble, got {dup.size} with a repeated "
            f"source, first at row {int(dup[0])}: {arr[dup[0]].tolist()}"
        )
    return arr.astype(np.int32)
