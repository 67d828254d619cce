"""Input validation and small shared kernels for the feature-based metrics.

Every feature metric takes ``feats`` float [n, D] (one row per sampled pixel or image) and, where it
uses labels, ``labels`` int [n] holding class indices 0..C-1 (void already removed). The validators run
outside jit; under a user's jit/vmap only static properties (rank, shape, dtype) are checked, see
:mod:`transel_jax.checks`.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from transel_jax import checks

# Added to denominators that vanish only for degenerate inputs (a constant feature dimension, a constant
# row, an all-equal score vector). Chosen far below any scale a real float32 feature reaches.
TINY = 1e-12
# A column (or row) whose spread is below this fraction of its largest magnitude is treated as constant:
# float32 rounding of its mean leaves residues of about this relative size, which must not be amplified.
CONSTANT_RTOL = 1e-5


FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def check_float32_range(x, name: str) -> None:
    """Reject a concrete float64 input that float32 (jax's default dtype) cannot represent.

    With ``jax_enable_x64`` off, jnp.asarray turns |x| > 3.4e38 into inf and |x| < 1.2e-38 into
    subnormals or zeros, which no rescaling inside a kernel can undo (XLA on CPU flushes subnormals to
    zero, so an all-subnormal float32 input is rejected too); say so instead of returning a
    meaningless score.
    """
    if checks.is_traced(x) or np.size(x) == 0:
        return
    import jax  # noqa: PLC0415 (only to read the flag; jax is loaded whenever a metric runs)

    if not hasattr(x, "dtype"):  # a list or scalar: numpy makes it float64
        x = np.asarray(x)
    wide = np.dtype(x.dtype).itemsize > 4
    if wide and jax.config.read("jax_enable_x64"):
        return
    if isinstance(x, jax.Array):  # on its device: one scalar comes back (XLA flushes subnormals to 0)
        biggest = float(jnp.max(jnp.abs(x)))
    else:
        biggest = float(np.max(np.abs(np.asarray(x))))
    if (wide and biggest > FLOAT32_MAX) or 0 < biggest < FLOAT32_TINY:
        raise ValueError(
            f"{name}: expected magnitudes within float32's normal range [{FLOAT32_TINY:.3g}, {FLOAT32_MAX:.3g}] "
            f"(jax computes in float32 unless jax_enable_x64 is set), got a largest |value| of {biggest:.3g}; "
            "rescale the input (e.g. divide by its largest magnitude)"
        )


def check_feats(feats, name: str = "feats", min_rows: int = 1) -> None:
    """``feats`` must be a finite floating [n, D] array with n >= ``min_rows`` and D >= 1."""
    if not hasattr(feats, "dtype"):
        raise TypeError(f"{name}: expected a numpy or jax array [n, D], got {type(feats).__name__}")
    checks.check_rank(feats, name, 2, "[n, D]")
    if not jnp.issubdtype(feats.dtype, jnp.floating):
        raise TypeError(f"{name}: expected a floating-point array [n, D], got dtype {feats.dtype}")
    checks.check_nonempty(feats, name, axis=0, what="rows")
    checks.check_nonempty(feats, name, axis=1, what="feature dimensions")
    n = np.shape(feats)[0]
    if n < min_rows:
        raise ValueError(f"{name}: expected at least {min_rows} rows, got {n}")
    checks.check_finite(feats, name)
    check_float32_range(feats, name)


def check_feats_labels(feats, labels, num_classes, min_rows: int = 1) -> int:
    """Validate (feats [n, D], labels [n] in 0..C-1, C); return C as a Python int."""
    num_classes = checks.check_positive_int(num_classes, "num_classes")
    check_feats(feats, "feats", min_rows=min_rows)
    checks.check_rank(labels, "labels", 1, "[n]")
    checks.check_dim("labels", "n (rows of feats)", np.shape(labels)[0], np.shape(feats)[0])
    checks.check_labels(labels, "labels", 0, num_classes - 1)
    return num_classes


def check_paired_feats(feats, reference, min_rows: int, reference_name: str = "reference") -> None:
    """Validate two feature sets describing the same n samples (their widths may differ)."""
    check_feats(feats, "feats", min_rows=min_rows)
    check_feats(reference, reference_name, min_rows=min_rows)
    checks.check_dim(reference_name, "n (rows of feats)", np.shape(reference)[0], np.shape(feats)[0])


def scale_by_max_abs(x: jnp.ndarray, axis=None):
    """(x * 2^-e, e): x rescaled by the power of two e = exponent of max |x| over ``axis`` (None = all).

    The first step of every feature metric (issue 12 item 9): float32 squares overflow from |x| ~ 2e19
    and relative guards such as CONSTANT_RTOL * max|x| + TINY misfire for |x| << 1, so kernels work on
    values whose largest magnitude is in [0.5, 1). ``e`` is int32 with a size-1 axis kept where ``axis``
    is given (0 for a slice of zeros). The scaling is exact (jnp.ldexp): a plain x / max|x| is not, as
    XLA rewrites it as x * (1 / max|x|) and CPUs flush the subnormal reciprocal of |x| > 8.5e37 to 0.
    Scale back with jnp.ldexp(y, e). Metrics invariant to this rescaling return the same score for
    every finite input magnitude; the others document how their absolute constants are carried over.
    """
    biggest = jnp.max(jnp.abs(x), axis=axis, keepdims=axis is not None)
    _, exponent = jnp.frexp(biggest)
    return jnp.ldexp(x, -exponent), exponent


def class_counts_and_means(feats: jnp.ndarray, labels: jnp.ndarray, num_classes: int):
    """Per-class counts [C] and means [C, D]; an absent class gets count 0 and mean 0.

    mean_c = sum_{i: y_i = c} f_i / max(n_c, 1).
    """
    onehot = jnp.asarray(labels)[:, None] == jnp.arange(num_classes)[None, :]
    onehot = onehot.astype(feats.dtype)
    counts = onehot.sum(axis=0)
    means = (onehot.T @ feats) / jnp.maximum(counts, 1.0)[:, None]
    return counts, means


def standardize_columns(x: jnp.ndarray, reference: jnp.ndarray | None = None) -> jnp.ndarray:
    """Z-score each column of x [n, D] with the mean and population std (ddof=0) of ``reference``.

    ``reference`` [m, D] defaults to x itself (e.g. pass a training split to scale a test split). A
    constant column of the reference (std <= CONSTANT_RTOL * its max |value|) maps to all zeros, so it
    carries no information instead of producing NaN or amplified rounding noise. Each column is first
    divided by its largest |value| (:func:`scale_by_max_abs`), so any finite magnitude works.
    """
    reference = x if reference is None else reference
    reference, exponent = scale_by_max_abs(reference, axis=0)  # z-scores are invariant to it
    x = jnp.ldexp(x, -exponent)
    mean = reference.mean(axis=0)
    std = jnp.sqrt(jnp.mean((reference - mean) ** 2, axis=0))
    constant = std <= CONSTANT_RTOL * jnp.max(jnp.abs(reference), axis=0) + TINY
    return jnp.where(constant, 0.0, (x - mean) / jnp.where(constant, 1.0, std))


def normalize_rows(x: jnp.ndarray, center: bool) -> jnp.ndarray:
    """Rows of x [n, D] (centred if ``center``) scaled to unit Euclidean norm; constant rows become 0.

    With ``center`` the Gram matrix of the result is the row-wise Pearson correlation matrix
    (np.corrcoef(x)); without it, the cosine-similarity matrix. A row counts as constant when its
    spread is <= CONSTANT_RTOL * its max |value| (without centring: only an all-zero row).
    """
    x, _ = scale_by_max_abs(x, axis=1)  # the result is invariant to per-row scaling; avoids overflow
    rows = x - x.mean(axis=1, keepdims=True) if center else x
    norm = jnp.sqrt(jnp.sum(rows**2, axis=1, keepdims=True))
    scale = jnp.sqrt(x.shape[1]).astype(x.dtype) * jnp.max(jnp.abs(x), axis=1, keepdims=True)
    constant = norm <= CONSTANT_RTOL * scale + TINY
    return jnp.where(constant, 0.0, rows / jnp.where(constant, 1.0, norm))
