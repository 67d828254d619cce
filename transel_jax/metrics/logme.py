"""LogME (You et al., ICML 2021): log marginal evidence of a Bayesian linear model on the features.

For each class c the target is the one-hot column y_c in {0, 1}^n, modelled as y = F m + noise with
prior m ~ N(0, alpha^-1 I_D) and noise precision beta. With the thin SVD F = U diag(s) V^T
(k = min(n, D) singular values, sigma_i = s_i^2) and z = U^T y, the paper's fixed-point algorithm
iterates, from alpha = beta = 1,

    gamma    = sum_i beta sigma_i / (alpha + beta sigma_i)
    m^T m    = sum_i beta^2 sigma_i z_i^2 / (alpha + beta sigma_i)^2
    |y-Fm|^2 = sum_i (alpha z_i / (alpha + beta sigma_i))^2 + |y - U z|^2
    alpha   <- gamma / m^T m,        beta <- (n - gamma) / |y - F m|^2

until the relative change of alpha / beta is below ``tol``, then evaluates the evidence per sample

    L/n = [D/2 log alpha + n/2 log beta - 1/2 sum_{i<=D} log(alpha + beta sigma_i)
           - beta/2 |y - F m|^2 - alpha/2 m^T m - n/2 log 2 pi] / n

(sigma_i = 0 for i > k). LogME is the mean of L/n over the classes present in ``labels``.

The spectrum comes from the SVD of F itself, not from an eigendecomposition of F^T F as in the authors'
float64 code: in float32, F^T F squares the condition number, and raw (e.g. post-ReLU) features with
large means make it lose real directions (a 2-3% error in LogME on such inputs). |y - U z|^2 is computed
directly, not as |y|^2 - |z|^2, for the same reason. On CPU the tall SVD is the dominant cost; reduce
D first (pca_reduce) for large n.

Numerics (issue 12 item 9): sigma = s^2 overflows float32 from |F| ~ 1e18, so the kernel works on F
rescaled by a power of two to a largest |entry| in [0.5, 1). The evidence is invariant to F -> c F
(alpha -> alpha / c^2 maps the iteration onto itself), but the fixed-point iteration can have several
fixed points and which one it reaches depends on the start alpha = beta = 1 (seen on offset features:
one class lands on evidence -0.553 from a start rescaled by 1/64 instead of -0.495). The start and the
start is therefore kept in the input's units (alpha_0 = scale^-2 in the rescaled ones, within
[1e-30, 1e30]), which reproduces the unscaled algorithm for ordinary magnitudes and stays finite for
every finite input. The returned alpha is in the input's units (it can over/underflow float32 for
extreme inputs; the evidence does not).
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from transel_jax import checks
from transel_jax.metrics._feature_inputs import TINY, check_feats_labels, scale_by_max_abs

# alpha and beta are kept in [PRECISION_MIN, PRECISION_MAX]: they diverge only for degenerate targets
# (features that fit y exactly, or all-zero features), and the clip keeps the evidence finite there.
# alpha's range is the union of that range in the input's units and in the kernel's rescaled units
# (see _fixed_point), each end kept within [SCALED_MIN, SCALED_MAX].
PRECISION_MIN = 1e-8
PRECISION_MAX = 1e8
SCALED_MIN = 1e-30
SCALED_MAX = 1e30


def _posterior_terms(alpha, beta, sigma, z, perp):
    """gamma, m^T m and |y - F m|^2 for one target given its projections z [k] and |y - U z|^2."""
    denom = alpha + beta * sigma
    gamma = jnp.sum(beta * sigma / denom)
    mtm = jnp.sum(sigma * z**2 * (beta / denom) ** 2)  # (beta / denom) first: no overflow of squares
    res = jnp.sum((alpha * z / denom) ** 2) + perp
    return gamma, mtm, res


def _fixed_point(sigma, z, perp, n, tol, max_iter, alpha_unit):
    """Iterate the evidence-maximising updates of alpha, beta for one target; returns (alpha, beta).

    ``alpha_unit`` is alpha = 1 of the input's units expressed in the rescaled units (scale^-2): the
    start and the clip of alpha are multiples of it.
    """
    # The input-unit bounds, widened to include [PRECISION_MIN, PRECISION_MAX] of the rescaled units,
    # where alpha of unit-size features lives (the input-unit bounds alone exclude it for |F| >~ 1e4).
    alpha_min = jnp.minimum(jnp.clip(PRECISION_MIN * alpha_unit, SCALED_MIN, SCALED_MAX), PRECISION_MIN)
    alpha_max = jnp.maximum(jnp.clip(PRECISION_MAX * alpha_unit, SCALED_MIN, SCALED_MAX), PRECISION_MAX)

    def update(alpha, beta):
        gamma, mtm, res = _posterior_terms(alpha, beta, sigma, z, perp)
        alpha = jnp.clip(gamma / jnp.maximum(mtm, TINY), alpha_min, alpha_max)
        beta = jnp.clip((n - gamma) / jnp.maximum(res, TINY), PRECISION_MIN, PRECISION_MAX)
        return alpha, beta

    def cond(state):
        it, _, _, change = state
        return (it < max_iter) & (change > tol)

    def body(state):
        it, alpha, beta, _ = state
        new_alpha, new_beta = update(alpha, beta)
        change = jnp.abs(new_alpha / new_beta - alpha / beta) / (alpha / beta)
        return it + 1, new_alpha, new_beta, change

    one = jnp.ones((), sigma.dtype)
    start = jnp.clip(alpha_unit, SCALED_MIN, SCALED_MAX)
    _, alpha, beta, _ = lax.while_loop(cond, body, (0, start, one, jnp.asarray(jnp.inf, sigma.dtype)))
    return alpha, beta


def _evidence_per_sample(alpha, beta, sigma, z, perp, n, d):
    """L(alpha, beta) / n for one target (formula in the module docstring)."""
    _, mtm, res = _posterior_terms(alpha, beta, sigma, z, perp)
    logdet = jnp.sum(jnp.log(alpha + beta * sigma)) + (d - sigma.shape[0]) * jnp.log(alpha)
    evidence = (
        d / 2 * jnp.log(alpha)
        + n / 2 * jnp.log(beta)
        - logdet / 2
        - beta / 2 * res
        - alpha / 2 * mtm
        - n / 2 * jnp.log(2 * jnp.pi)
    )
    return evidence / n


def _spectrum(feats, targets):
    """sigma = s^2 [k], z = U^T Y [k, C] and |Y - U z|^2 [C] from the thin SVD F = U diag(s) V^T."""
    u, s, _ = jnp.linalg.svd(feats, full_matrices=False)
    z = u.T @ targets
    return s**2, z, jnp.sum((targets - u @ z) ** 2, axis=0)


@partial(jax.jit, static_argnames=("num_classes", "max_iter"))
def _class_evidence(feats, labels, num_classes, tol, max_iter):
    n, d = feats.shape
    feats, exponent = scale_by_max_abs(feats)
    # 2^(-2e) in float32 without overflow: exp2 of a clipped exponent (|2e| <= 126 stays normal).
    alpha_unit = jnp.exp2(jnp.clip(-2.0 * exponent.astype(feats.dtype), -126.0, 126.0))
    targets = (labels[:, None] == jnp.arange(num_classes)[None, :]).astype(feats.dtype)  # [n, C]
    sigma, z, perp = _spectrum(feats, targets)

    def per_class(z_c, perp_c):
        alpha, beta = _fixed_point(sigma, z_c, perp_c, n, tol, max_iter, alpha_unit)
        return _evidence_per_sample(alpha, beta, sigma, z_c, perp_c, n, d), alpha, beta

    evidence, alpha, beta = jax.vmap(per_class, in_axes=(1, 0))(z, perp)  # each [C]
    alpha = jnp.ldexp(alpha, 2 * exponent)  # prior precision for F itself: alpha_F = alpha * scale^2
    return {"evidence": evidence, "alpha": alpha, "beta": beta, "present": targets.sum(axis=0) > 0}


def _validate(feats, labels, num_classes, tol, max_iter):
    num_classes = check_feats_labels(feats, labels, num_classes)
    if not float(tol) > 0:
        raise ValueError(f"tol: expected a positive float, got {tol}")
    max_iter = checks.check_positive_int(max_iter, "max_iter")
    return num_classes, float(tol), max_iter


def logme_per_class(feats, labels, num_classes: int, *, tol: float = 1e-3, max_iter: int = 100) -> dict:
    """Per-class LogME terms: {"evidence", "alpha", "beta": float [C], "present": bool [C]}.

    evidence[c] = L_c(alpha_c, beta_c) / n at the fixed point reached for target y_c (module docstring);
    entries of absent classes (present[c] False) are defined but meaningless. Arguments as :func:`logme`.
    """
    num_classes, tol, max_iter = _validate(feats, labels, num_classes, tol, max_iter)
    return _class_evidence(jnp.asarray(feats), jnp.asarray(labels), num_classes, tol, max_iter)


def logme(feats, labels, num_classes: int, *, tol: float = 1e-3, max_iter: int = 100) -> jnp.ndarray:
    """LogME of features f [n, D] for class indices y [n] in 0..C-1 (higher transfers better).

    The mean over the classes present in ``labels`` of the per-sample log evidence of the one-vs-rest
    target (module docstring). An absent class has an all-zero target whose evidence diverges, so it is
    left out of the mean (documented choice; the paper assumes every class occurs).

    Args:
      feats: float [n, D] (raw features; n < D and constant dimensions are fine).
      labels: int [n]; num_classes: C (static).
      tol: stop when |Δ(alpha/beta)| / (alpha/beta) <= tol; max_iter: iteration cap (static).

    Returns a float32 scalar. Jittable; one thin SVD, O(n D min(n, D)), shared by all classes, then
    O(min(n, D)) per fixed-point iteration and class.
    """
    terms = logme_per_class(feats, labels, num_classes, tol=tol, max_iter=max_iter)
    present = terms["present"]
    return jnp.sum(jnp.where(present, terms["evidence"], 0.0)) / jnp.sum(present)


__all__ = ["logme", "logme_per_class"]
