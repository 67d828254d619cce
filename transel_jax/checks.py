"""Input validation shared by every public function.

Public functions validate their inputs *outside* jit and raise ``ValueError``/``TypeError`` that name the
argument, what was expected and what was got. When called from inside a user's ``jax.jit`` the inputs are
tracers whose values are unknown; then only static properties (rank, shape, dtype) are checked and value
checks (ranges, NaN, row sums) are skipped, so the kernels stay usable inside jitted code.
"""
from __future__ import annotations

from typing import Sequence

import sys

import numpy as np


def is_traced(x) -> bool:
    """True when ``x`` is an abstract value inside a jax transformation (its values are unknown).

    jax is not imported here: without jax loaded nothing can be a tracer, so jax-free callers (the data
    pipeline) can validate inputs without pulling jax in.
    """
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.core.Tracer)


def check_rank(x, name: str, ndim: int, dims: str = "") -> None:
    """Raise ValueError unless ``x`` has ``ndim`` dimensions; ``dims`` documents them, e.g. '[n, C]'."""
    got = np.ndim(x)
    if got != ndim:
        want = f"{ndim}-d array {dims}".strip()
        raise ValueError(f"{name}: expected a {want}, got shape {tuple(np.shape(x))}")


def check_dim(name: str, axis_name: str, got: int, expected: int) -> None:
    if got != expected:
        raise ValueError(f"{name}: expected {axis_name} = {expected}, got {got}")


def check_nonempty(x, name: str, axis: int = 0, what: str = "pixels") -> None:
    if np.shape(x)[axis] == 0:
        raise ValueError(f"{name}: expected at least one {what.rstrip('s')} (axis {axis}), got 0 {what}")


def check_integer(x, name: str) -> None:
    if not np.issubdtype(np.asarray(x).dtype if not is_traced(x) else x.dtype, np.integer):
        raise TypeError(f"{name}: expected an integer array, got dtype {x.dtype}")


def check_labels(labels, name: str, low: int, high: int) -> None:
    """Integer labels with every value in [low, high] (inclusive)."""
    check_integer(labels, name)
    if is_traced(labels) or np.size(labels) == 0:
        return
    arr = np.asarray(labels)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < low or hi > high:
        raise ValueError(f"{name}: expected values in [{low}, {high}], got values in [{lo}, {hi}]")


def check_probabilities(p, name: str, axis: int = -1, atol: float = 1e-3) -> None:
    """Finite, non-negative, and summing to 1 (within ``atol``) along ``axis``.

    Two passes over the values: the row sums (a matrix-vector product in float32, or float64 for float64
    input: NaN and inf propagate into them) and the minimum; float16 input is widened to float32 first.
    A third of the time of separate isfinite / min / float64-sum passes (the scorer checks [N, n, C]).
    """
    if not np.issubdtype(p.dtype, np.floating):
        raise TypeError(f"{name}: expected a floating-point array of probabilities, got dtype {p.dtype}")
    if is_traced(p) or np.size(p) == 0:
        return
    arr = np.moveaxis(np.asarray(p), axis, -1)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    rows = arr.reshape(-1, arr.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):  # inf / NaN sums are what is checked next
        sums = rows @ np.ones(rows.shape[1], rows.dtype)
    if not np.all(np.isfinite(sums)):
        bad = int(np.sum(~np.isfinite(arr)))  # else finite values too large to sum: the row-sum check says so
        if bad:
            raise ValueError(f"{name}: expected finite probabilities, got {bad} NaN/inf values")
    mn = float(rows.min())
    if mn < 0:
        raise ValueError(f"{name}: expected non-negative probabilities, got minimum {mn:g}")
    worst = float(np.max(np.abs(sums - 1.0)))
    if worst > atol:
        raise ValueError(
            f"{name}: expected rows summing to 1 along axis {axis} (tolerance {atol:g}), "
            f"got a row summing to {float(sums[np.argmax(np.abs(sums - 1.0))]):.6g}"
        )


def check_finite(x, name: str) -> None:
    if is_traced(x) or np.size(x) == 0:
        return
    arr = np.asarray(x)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got {int(np.sum(~np.isfinite(arr)))} NaN/inf values")


def check_choice(value, name: str, choices: Sequence) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)
