"""H-Score (Bao et al., ICIP 2019) and its shrinkage version (Ibrahim et al. 2022).

H-Score: how much of the feature covariance the class means explain. The shrinkage H-Score of
"Newer is not always better: Rethinking transferability metrics, their peculiarities, stability and
performance" (Ibrahim, Ponomareva, Mazumder) replaces the sample covariance by the Ledoit-Wolf
estimate, which is well conditioned when n is not much larger than D.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from transel_jax.metrics._feature_inputs import (
    TINY,
    check_feats_labels,
    class_counts_and_means,
    scale_by_max_abs,
    standardize_columns,
)


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


def ledoit_wolf(x: jnp.ndarray):
    """Ledoit-Wolf (2004) shrinkage of the covariance of the rows of x [n, D]: (Sigma_alpha, alpha, S).

    With x centred (mean over rows subtracted), S = x^T x / n (ddof = 0), mu = tr(S) / D and the
    target mu I (scaled identity):
        delta^2 = ||S - mu I||_F^2
        b^2     = (1/n^2) sum_i ||x_i x_i^T - S||_F^2 = (sum_i |x_i|^4 / n - ||S||_F^2) / n
        alpha   = min(b^2, delta^2) / delta^2   in [0, 1]  (0 when delta = 0: S is already mu I)
        Sigma_alpha = (1 - alpha) S + alpha mu I.
    (LW's normalised norm ||A||^2 / D cancels in the ratio.) This is the estimator of the shrinkage
    intensity sklearn's LedoitWolf implements. Pure jnp; the caller rescales x (float32).
    """
    x = x - x.mean(axis=0, keepdims=True)
    n, d = x.shape
    cov = x.T @ x / n
    mu = jnp.trace(cov) / d
    delta2 = jnp.sum((cov - mu * jnp.eye(d, dtype=x.dtype)) ** 2)
    row_sq = jnp.sum(x * x, axis=1)
    b2 = jnp.maximum(jnp.sum(row_sq**2) / n - jnp.sum(cov**2), 0.0) / n
    alpha = jnp.where(delta2 > TINY, jnp.minimum(b2, delta2) / jnp.maximum(delta2, TINY), 0.0)
    shrunk = (1.0 - alpha) * cov + alpha * mu * jnp.eye(d, dtype=x.dtype)
    return shrunk, alpha, cov


@partial(jax.jit, static_argnames=("num_classes",))
def _shrinkage_h_score(feats, labels, num_classes, rcond):
    f, _ = scale_by_max_abs(feats)  # H_alpha is invariant to a global scale (alpha is too)
    f = f - f.mean(axis=0, keepdims=True)
    n = f.shape[0]
    shrunk, alpha, _ = ledoit_wolf(f)
    _, means = class_counts_and_means(f, labels, num_classes)
    g = means[labels]
    cov_g = g.T @ g / n
    eigval, eigvec = jnp.linalg.eigh(shrunk)
    keep = eigval > rcond * jnp.max(eigval)
    inv = jnp.where(keep, 1.0 / jnp.where(keep, eigval, 1.0), 0.0)
    score = (1.0 - alpha) * jnp.sum(inv * jnp.einsum("dk,de,ek->k", eigvec, cov_g, eigvec))
    return score, alpha


def shrinkage_h_score(feats, labels, num_classes: int, *, rcond: float = 1e-4, return_alpha: bool = False):
    """Shrinkage H-Score H_alpha = tr(Sigma_alpha^-1 (1 - alpha) cov(E[f | y])) (Ibrahim et al. 2022).

    Sigma_alpha = (1 - alpha) cov(f) + alpha mu I is the Ledoit-Wolf estimate of cov(f): shrinkage
    target mu I with mu = tr(cov f) / D (scaled identity), intensity alpha = min(b^2, delta^2) /
    delta^2 estimated from the data as in Ledoit & Wolf (2004) (:func:`ledoit_wolf` spells it out).
    cov(E[f|y]) is the covariance of g_i = mean of f over the samples of class y_i, as in
    :func:`h_score`. The factor (1 - alpha) on it is the paper's. Both covariances use 1/n (ddof = 0;
    the TLlib version uses np.cov's 1/(n-1) for the between-class one, a factor n/(n-1)), so
    H_alpha -> h_score as alpha -> 0 (alpha = O(1/n) for a fixed distribution).

    Unlike :func:`h_score` the features are not z-scored per dimension (the isotropic target makes
    H_alpha depend on the dimensions' relative scales, as in the paper); only one global power-of-two
    rescaling is applied for float32 range, which changes nothing. ^-1 keeps eigenvalues > ``rcond``
    * largest (it only matters when alpha = 0 and cov(f) is singular).

    Args:
      feats: float [n, D]; labels: int [n] in 0..C-1; num_classes: C (static); rcond as in h_score.
      return_alpha: also return the shrinkage intensity alpha in [0, 1].

    Returns a float32 scalar (and alpha). Jittable; O(n D^2 + D^3).
    """
    num_classes = check_feats_labels(feats, labels, num_classes)
    if not 0.0 <= float(rcond) < 1.0:
        raise ValueError(f"rcond: expected a float in [0, 1), got {rcond}")
    score, alpha = _shrinkage_h_score(jnp.asarray(feats), jnp.asarray(labels), num_classes, float(rcond))
    return (score, alpha) if return_alpha else score


__all__ = ["h_score", "shrinkage_h_score", "ledoit_wolf"]
