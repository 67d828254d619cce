"""TransRate (Huang et al., ICML 2022, "Frustratingly Easy Transferability Estimation").

TransRate estimates the mutual information between features and labels by the rate reduction of
Maximal Coding Rate Reduction (MCR^2): the coding rate of all features minus the label-conditional
coding rate,

    R(Z, eps)     = 1/2 logdet(I_D + D / (n eps^2) Z^T Z)                    (Z [n, D], centred)
    R(Z, eps | Y) = sum_c w_c R(Z_c, eps),   Z_c = the rows of class c, n_c rows, D / (n_c eps^2)
    TransRate     = R(Z, eps) - R(Z, eps | Y)                                 (higher transfers better)

Documented choices (the coding rate depends on the feature scale through eps, so a normalisation is
part of the definition):
  - Z is centred (column means subtracted, as in the paper and its code) and then divided by one
    scalar so that the mean per-dimension variance tr(Z^T Z / n) / D is 1. This makes TransRate
    invariant to a global rescaling of the features (not to per-dimension ones), keeps every input
    magnitude finite, and with eps = 0.01 (eps^2 = 1e-4) gives D / (n eps^2) Z^T Z = 1e4 * (unit-variance
    covariance), the regime of the authors' code, which multiplies Z^T Z of raw features by
    1 / (n * 1e-4) with no D factor. Class subsets Z_c are not re-centred (MCR^2 codes each class
    around the global mean, as the authors' code does).
  - weights w_c = n_c / n ("frequency", the MCR^2 rate R_c and the empirical H(Z | Y)); the authors'
    released code averages over classes instead (w_c = 1 / K over the K classes up to max(y)), which
    ``class_weights="uniform"`` selects (over the classes present).
Absent classes get weight 0. logdet comes from the eigenvalues of the symmetric D x D Gram matrices
(sum of log1p), in float32.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from transel_jax import checks
from transel_jax.metrics._feature_inputs import TINY, check_feats_labels, scale_by_max_abs

CLASS_WEIGHTS = ("frequency", "uniform")


def coding_rate_from_gram(gram: jnp.ndarray, count, eps) -> jnp.ndarray:
    """1/2 logdet(I + D / (count eps^2) G) for a Gram matrix G = Z^T Z [D, D] of ``count`` rows."""
    d = gram.shape[0]
    factor = d / (jnp.maximum(count, 1.0) * eps**2)
    eigval = jnp.linalg.eigvalsh(gram)
    return 0.5 * jnp.sum(jnp.log1p(factor * jnp.maximum(eigval, 0.0)))


def normalized_features(feats: jnp.ndarray) -> jnp.ndarray:
    """Centred features divided by one scalar so that tr(Z^T Z / n) / D = 1 (all-constant: zeros)."""
    z, _ = scale_by_max_abs(feats)
    z = z - z.mean(axis=0, keepdims=True)
    mean_var = jnp.mean(z * z)
    return jnp.where(mean_var > TINY, z / jnp.sqrt(jnp.maximum(mean_var, TINY)), 0.0)


@partial(jax.jit, static_argnames=("num_classes", "class_weights"))
def _transrate(feats, labels, num_classes, eps, class_weights):
    z = normalized_features(feats)
    n = z.shape[0]
    total = coding_rate_from_gram(z.T @ z, n, eps)

    def class_rate(c):
        member = (labels == c).astype(z.dtype)
        zc = z * member[:, None]
        count = member.sum()
        return coding_rate_from_gram(zc.T @ zc, count, eps), count

    rates, counts = lax.map(class_rate, jnp.arange(num_classes))
    if class_weights == "frequency":
        weights = counts / n
    else:
        present = (counts > 0).astype(z.dtype)
        weights = present / present.sum()
    return total - jnp.sum(weights * rates)


def transrate(feats, labels, num_classes: int, *, eps: float = 0.01, class_weights: str = "frequency") -> jnp.ndarray:
    """TransRate of features f [n, D] for class indices y [n] in 0..C-1 (module docstring).

    Args:
      feats: float [n, D]; n < D and constant dimensions are fine (their eigenvalues are 0).
      labels: int [n]; num_classes: C (static).
      eps: distortion eps > 0 of the coding rate, in units of the normalised features' per-dimension
        standard deviation (default 0.01, see the module docstring).
      class_weights: "frequency" (n_c / n, default) or "uniform" (the authors' code), static.

    Returns a float32 scalar in nats, >= 0 up to rounding for "frequency" (coding rates are concave).
    Jittable; O(C n D^2 + C D^3) time, O(n D + D^2) extra memory (classes one at a time).
    """
    num_classes = check_feats_labels(feats, labels, num_classes)
    if not float(eps) > 0:
        raise ValueError(f"eps: expected a positive float, got {eps}")
    checks.check_choice(class_weights, "class_weights", CLASS_WEIGHTS)
    return _transrate(jnp.asarray(feats), jnp.asarray(labels), num_classes, float(eps), class_weights)


__all__ = ["transrate", "coding_rate_from_gram", "normalized_features"]
