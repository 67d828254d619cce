"""PCA reduction of features to f dimensions (003 Sec. 4, "Dimensionality Reduction")."""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from transel_jax import checks
from transel_jax.metrics._feature_inputs import check_feats, scale_by_max_abs


def _fix_signs(scores: jnp.ndarray) -> jnp.ndarray:
    """Flip each column of scores [n, f] so that its entry of largest magnitude is positive."""
    pivot = scores[jnp.argmax(jnp.abs(scores), axis=0), jnp.arange(scores.shape[1])]
    return scores * jnp.where(pivot < 0, -1.0, 1.0).astype(scores.dtype)


@partial(jax.jit, static_argnames=("dims",))
def _pca_reduce(feats, dims):
    n, d = feats.shape
    f = min(dims, n, d)
    feats, exponent = scale_by_max_abs(feats)  # X^T X overflows float32 from |x| ~ 1e19; scores scale back
    x = feats - feats.mean(axis=0, keepdims=True)
    if n >= d:  # eigenvectors of the D x D scatter matrix: principal axes V; scores X V
        _, axes = jnp.linalg.eigh(x.T @ x)
        scores = x @ axes[:, ::-1][:, :f]
    else:  # eigenvectors of the n x n Gram matrix: X V = U S
        eigval, left = jnp.linalg.eigh(x @ x.T)
        scores = left[:, ::-1][:, :f] * jnp.sqrt(jnp.maximum(eigval[::-1][:f], 0.0))
    return jnp.ldexp(_fix_signs(scores), exponent)


def pca_reduce(feats, dims: int) -> jnp.ndarray:
    """Project centred features on their top principal axes: [n, D] -> [n, min(dims, n, D)].

    Z = (F - mean F) V_f, V_f the eigenvectors of the scatter (F - mean)^T (F - mean) with the f largest
    eigenvalues, in decreasing order, so column variances of Z are non-increasing. Each column's sign is
    fixed so that its largest-magnitude entry is positive (deterministic output). Like the 003 authors'
    code, f is capped at the number of samples (and at D, so the output is never padded). The
    decomposition runs on F / max|F| and the scores are scaled back, so any finite magnitude works
    (the scores themselves must fit in float32: |Z| <= 2 sqrt(D) max|F|).

    Args: feats float [n, D]; dims: f >= 1 (static; 003 uses f = 32 for PARC).
    Returns float [n, min(f, n, D)]. Jittable; one eigendecomposition of the smaller Gram matrix.
    """
    check_feats(feats, "feats")
    dims = checks.check_positive_int(dims, "dims")
    return _pca_reduce(jnp.asarray(feats), dims)


__all__ = ["pca_reduce"]
