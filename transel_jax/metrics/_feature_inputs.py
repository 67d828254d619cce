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


def check_paired_feats(feats, reference, min_rows: int, reference_name: str = "reference") -> None:
    """Validate two feature sets describing the same n samples (their widths may differ)."""
    check_feats(feats, "feats", min_rows=min_rows)
    check_feats(reference, reference_name, min_rows=min_rows)
    checks.check_dim(reference_name, "n (rows of feats)", np.shape(reference)[0], np.shape(feats)[0])


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
    carries no information instead of producing NaN or amplified rounding noise.
    """
    reference = x if reference is None else reference
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
    rows = x - x.mean(axis=1, keepdims=True) if center else x
    norm = jnp.sqrt(jnp.sum(rows**2, axis=1, keepdims=True))
    scale = jnp.sqrt(x.shape[1]).astype(x.dtype) * jnp.max(jnp.abs(x), axis=1, keepdims=True)
    constant = norm <= CONSTANT_RTOL * scale + TINY
    return jnp.where(constant, 0.0, rows / jnp.where(constant, 1.0, norm))
