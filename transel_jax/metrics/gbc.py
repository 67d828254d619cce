"""GBC (Pandy et al., CVPR 2022): Gaussian Bhattacharyya coefficient between target classes.

Each class c present in ``labels`` is modelled as N(mu_c, Sigma_c) in feature space, with Sigma_c
diagonal (per-dimension variances) or spherical (their mean times I). For classes i, j, with
Sigma = (Sigma_i + Sigma_j) / 2, the Bhattacharyya distance and coefficient are

    D_B(i, j) = 1/8 (mu_i - mu_j)^T Sigma^-1 (mu_i - mu_j) + 1/2 ln( det Sigma / sqrt(det Sigma_i det Sigma_j) )
    BC(i, j)  = exp(-D_B(i, j))

and GBC = - sum_i sum_{j != i} BC(i, j) over ordered pairs of present classes (<= 0; closer to 0 means
better-separated classes, i.e. better transfer).

Numerics (issue 12 item 9): the kernel works on f / scale, scale = the power of two just above max|f|
(:func:`scale_by_max_abs`). D_B is invariant to that global scale,
and ``min_variance`` (in the features' units squared) is carried over as min_variance / scale^2,
formed in log space so it neither overflows nor underflows; it is further floored at
VARIANCE_FLOOR_REL = 1e-30 of scale^2 (far below any other floor), so constant dimensions stay finite
at every input magnitude.
"""
from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

from transel_jax import checks
from transel_jax.metrics._feature_inputs import check_feats_labels, class_counts_and_means, scale_by_max_abs

COVARIANCES = ("diagonal", "spherical")
VARIANCE_FLOOR_REL = 1e-30


def class_gaussians(feats, labels, num_classes: int, covariance: str, min_variance: float):
    """Per-class counts [C], means [C, D] and variances [C, D] (population, ddof=0).

    Variances are floored at ``min_variance`` (a class of one sample, a constant dimension); for
    ``covariance="spherical"`` every dimension gets the class's mean variance (before the floor).
    """
    counts, means = class_counts_and_means(feats, labels, num_classes)
    centered = feats - means[labels]
    onehot = (labels[:, None] == jnp.arange(num_classes)[None, :]).astype(feats.dtype)
    variances = (onehot.T @ centered**2) / jnp.maximum(counts, 1.0)[:, None]
    if covariance == "spherical":
        variances = jnp.broadcast_to(variances.mean(axis=1, keepdims=True), variances.shape)
    return counts, means, jnp.maximum(variances, min_variance)


def bhattacharyya_distance(mean_a, var_a, mean_b, var_b):
    """D_B between N(mean_a, diag var_a) and N(mean_b, diag var_b); all [..., D] -> [...]."""
    var = (var_a + var_b) / 2
    mahalanobis = jnp.sum((mean_a - mean_b) ** 2 / var, axis=-1) / 8
    log_det_ratio = jnp.sum(jnp.log(var) - (jnp.log(var_a) + jnp.log(var_b)) / 2, axis=-1) / 2
    return mahalanobis + log_det_ratio


@partial(jax.jit, static_argnames=("num_classes", "covariance"))
def _gbc(feats, labels, num_classes, covariance, log_min_variance):
    feats, exponent = scale_by_max_abs(feats)
    # min_variance * 2^(-2e), clipped to [1e-30, 1e30]: beyond 1e30 (features far below their floor)
    # every BC is 1 either way.
    log_floor = log_min_variance - 2.0 * math.log(2.0) * exponent.astype(feats.dtype)
    floor = jnp.clip(jnp.exp(log_floor), VARIANCE_FLOOR_REL, 1.0 / VARIANCE_FLOOR_REL)
    counts, means, variances = class_gaussians(feats, labels, num_classes, covariance, floor)
    distance = bhattacharyya_distance(means[:, None], variances[:, None], means[None, :], variances[None, :])
    present = counts > 0
    pairs = present[:, None] & present[None, :] & ~jnp.eye(num_classes, dtype=bool)
    return -jnp.sum(jnp.where(pairs, jnp.exp(-distance), 0.0))


def gbc(feats, labels, num_classes: int, *, covariance: str = "diagonal", min_variance: float = 1e-4) -> jnp.ndarray:
    """GBC of features f [n, D] for class indices y [n] in 0..C-1 (module docstring for the formula).

    Args:
      feats: float [n, D] (003-style PCA reduction first keeps D small; memory is O(C^2 D)).
      labels: int [n]; num_classes: C (static); absent classes are left out of the sum.
      covariance: "diagonal" or "spherical" (static).
      min_variance: floor on every class variance (documented choice: 1e-4, in the features' units
        squared), so one-sample classes and constant dimensions stay finite.

    Returns a float32 scalar in [-C'(C'-1), 0], C' = number of classes present. Jittable.
    """
    num_classes = check_feats_labels(feats, labels, num_classes)
    checks.check_choice(covariance, "covariance", COVARIANCES)
    if not float(min_variance) > 0:
        raise ValueError(f"min_variance: expected a positive float, got {min_variance}")
    return _gbc(jnp.asarray(feats), jnp.asarray(labels), num_classes, covariance, math.log(float(min_variance)))


__all__ = ["gbc", "class_gaussians", "bhattacharyya_distance"]
