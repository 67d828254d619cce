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


def check_feats_labels(feats, labels, num_classes, min_rows: int = 1) -> int:
    """Validate (feats [n, D], labels [n] in 0..C-1, C); return C as a Python int."""
    num_classes = checks.check_positive_int(num_classes, "num_classes")
    check_feats(feats, "feats", min_rows=min_rows)
    checks.check_rank(labels, "labels", 1, "[n]")
    checks.check_dim("labels", "n (rows of feats)", np.shape(labels)[0], np.shape(feats)[0])
    checks.check_labels(labels, "labels", 0, num_classes - 1)
    return num_classes


def check_paired_feats(feats, reference, min_rows: int) -> None:
    """Validate two feature sets describing the same n samples (their widths may differ)."""
    check_feats(feats, "feats", min_rows=min_rows)
    check_feats(reference, "reference", min_rows=min_rows)
    checks.check_dim("reference", "n (rows of feats)", np.shape(reference)[0], np.shape(feats)[0])


def class_counts_and_means(feats: jnp.ndarray, labels: jnp.ndarray, num_classes: int):
    """Per-class counts [C] and means [C, D]; an absent class gets count 0 and mean 0.

    mean_c = sum_{i: y_i = c} f_i / max(n_c, 1).
    """
    onehot = jnp.asarray(labels)[:, None] == jnp.arange(num_classes)[None, :]
    onehot = onehot.astype(feats.dtype)
    counts = onehot.sum(axis=0)
    means = (onehot.T @ feats) / jnp.maximum(counts, 1.0)[:, None]
    return counts, means


def standardize_columns(x: jnp.ndarray) -> jnp.ndarray:
    """Z-score each column of x [n, D]: (x - mean) / std with the population std (ddof=0).

    A constant column (std <= CONSTANT_RTOL * max|x| of the column) becomes all zeros, so it carries no
    information instead of producing NaN or amplified rounding noise.
    """
    return _normalize(x, axis=0, center=True)


def normalize_rows(x: jnp.ndarray, center: bool) -> jnp.ndarray:
    """Rows of x [n, D] (centred if ``center``) scaled to unit Euclidean norm; constant rows become 0.

    With ``center`` the Gram matrix of the result is the row-wise Pearson correlation matrix
    (np.corrcoef(x)); without it, the cosine-similarity matrix.
    """
    return _normalize(x, axis=1, center=center) / jnp.sqrt(x.shape[1]).astype(x.dtype)


def _normalize(x: jnp.ndarray, axis: int, center: bool) -> jnp.ndarray:
    """(x - mean) / rms along ``axis`` (no centring if not ``center``), zeroing near-constant slices."""
    centered = x - x.mean(axis=axis, keepdims=True) if center else x
    rms = jnp.sqrt(jnp.mean(centered**2, axis=axis, keepdims=True))
    scale = jnp.max(jnp.abs(x), axis=axis, keepdims=True)
    constant = rms <= CONSTANT_RTOL * scale + TINY
    return jnp.where(constant, 0.0, centered / jnp.where(constant, 1.0, rms))
