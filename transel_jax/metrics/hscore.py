"""H-Score (Bao et al., ICIP 2019): how much of the feature covariance the class means explain."""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from transel_jax.metrics._feature_inputs import check_feats_labels, class_counts_and_means, standardize_columns


@partial(jax.jit, static_argnames=("num_classes",))
def _h_score(feats, labels, num_classes, rcond):
    f = standardize_columns(feats)
    n = f.shape[0]
    _, means = class_counts_and_means(f, labels, num_classes)
    g = means[labels]  # each sample replaced by its class mean; columns of f have mean 0, so g's too
    cov_f = f.T @ f / n
    cov_g = g.T @ g / n
    eigval, eigvec = jnp.linalg.eigh(cov_f)
    keep = eigval > rcond * jnp.max(eigval)
    inv = jnp.where(keep, 1.0 / jnp.where(keep, eigval, 1.0), 0.0)
    # tr(cov_f^+ cov_g) = sum_k [v_k^T cov_g v_k] / lambda_k over the kept eigenpairs.
    return jnp.sum(inv * jnp.einsum("dk,de,ek->k", eigvec, cov_g, eigvec))


def h_score(feats, labels, num_classes: int, *, rcond: float = 1e-4) -> jnp.ndarray:
    """H(f) = tr(cov(f)^+ cov(E[f | y])) for features f [n, D] and class indices y [n] in 0..C-1.

    cov(f) = (1/n) sum_i (f_i - mean f)(f_i - mean f)^T and cov(E[f|y]) is the same covariance of g_i =
    mean of f over the samples of class y_i (the 1/n factors cancel). Larger is better; 0 <= H <= C' - 1
    with C' the number of classes present, and H = C' - 1 whenever the centred features span the
    class-indicator space (e.g. n <= D).

    Numerics (documented choice): each feature dimension is z-scored first, which leaves H unchanged
    (H is invariant to invertible linear maps of f) but conditions cov(f); then ^+ is the pseudo-inverse
    keeping eigenvalues > ``rcond`` * largest. Constant dimensions, n < D and absent classes are valid.

    Args:
      feats: float [n, D]; labels: int [n]; num_classes: C (static); rcond: relative eigenvalue cutoff.

    Returns a float32 scalar. Jittable; O(n D^2 + D^3) time, O(D^2) extra memory.
    """
    num_classes = check_feats_labels(feats, labels, num_classes)
    if not 0.0 <= float(rcond) < 1.0:
        raise ValueError(f"rcond: expected a float in [0, 1), got {rcond}")
    return _h_score(jnp.asarray(feats), jnp.asarray(labels), num_classes, float(rcond))


__all__ = ["h_score"]
