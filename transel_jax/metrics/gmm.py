"""A seeded, deterministic Gaussian mixture fitted by EM in jnp (used by N-LEEP).

Model: p(x) = sum_k w_k N(x | mu_k, Sigma_k), K components, Sigma_k diagonal or full.
Algorithm (fixed and documented, so the same key gives the same bytes):
  init   K distinct rows chosen by jax.random.choice(key, n, (K,), replace=False) are the initial
         means; every row is assigned to its nearest initial mean (squared Euclidean distance) and one
         M-step on those hard responsibilities gives the initial (w, mu, Sigma);
  E-step r_ik = w_k N(x_i | mu_k, Sigma_k) / sum_j w_j N(x_i | mu_j, Sigma_j), in log space;
  M-step N_k = sum_i r_ik + 10 eps32, w_k = N_k / n, mu_k = sum_i r_ik x_i / N_k,
         Sigma_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T / N_k + reg I   (diagonal: its diagonal);
  stop   after ``num_iters`` E/M rounds, or earlier once the mean log-likelihood per sample improves
         by less than ``tol`` (tol = 0: exactly num_iters rounds); a final E-step gives the posteriors.
These follow sklearn's GaussianMixture (same M-step, reg_covar, 10 eps, tol on the mean
log-likelihood) except the initialisation (sklearn runs k-means) and float32 arithmetic.

``dim_mask`` [D] (1 = use, 0 = ignore) lets callers keep a data-dependent number of dimensions under a
static shape: ignored dimensions must be zero in x; they get mean 0 and unit variance in every
component, so they add the same constant to every log-density and leave the posteriors unchanged
(that constant is removed from the reported log-likelihood).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax
from jax.scipy.linalg import solve_triangular
from jax.scipy.special import logsumexp

COVARIANCES = ("diagonal", "full")
_LOG_2PI = math.log(2.0 * math.pi)
_EPS32 = float(jnp.finfo(jnp.float32).eps)


def initial_indices(key, n: int, num_components: int) -> jnp.ndarray:
    """The rows whose values are the initial means: K distinct indices in 0..n-1 (needs K <= n)."""
    return jax.random.choice(key, n, (num_components,), replace=False)


def _m_step(x, resp, dim_mask, covariance, reg):
    n, d = x.shape
    nk = resp.sum(axis=0) + 10.0 * _EPS32  # [K]
    weights = nk / n
    means = (resp.T @ x) / nk[:, None]  # [K, D]
    if covariance == "diagonal":
        # E_r[x^2] - mu^2 (x is standardised, so the float32 cancellation is far below reg).
        var = (resp.T @ (x * x)) / nk[:, None] - means**2
        cov = jnp.where(dim_mask > 0, jnp.maximum(var, 0.0) + reg, 1.0)  # [K, D]
    else:
        outer = dim_mask[:, None] * dim_mask[None, :]
        fill = jnp.diag(1.0 - dim_mask) + reg * jnp.diag(dim_mask)

        def one(args):
            r, mu, count = args
            diff = x - mu
            return ((diff * r[:, None]).T @ diff) / count * outer + fill

        cov = lax.map(one, (resp.T, means, nk))  # [K, D, D]
    return weights, means, cov


def _log_gaussians(x, means, cov, dim_mask, covariance):
    """log N(x_i | mu_k, Sigma_k) over the used dimensions only: [n, K]."""
    used = jnp.sum(dim_mask)
    if covariance == "diagonal":
        prec = 1.0 / cov  # [K, D]
        maha = (x * x) @ prec.T - 2.0 * x @ (means * prec).T + jnp.sum(means**2 * prec, axis=1)[None, :]
        log_det = jnp.sum(jnp.log(cov) * dim_mask, axis=1)  # ignored dims have cov 1: log 0 anyway
        return -0.5 * (used * _LOG_2PI + log_det[None, :] + jnp.maximum(maha, 0.0))

    def one(args):
        mu, sigma = args
        chol = jnp.linalg.cholesky(sigma)
        y = solve_triangular(chol, (x - mu).T, lower=True)  # [D, n]; ignored dims: x = mu = 0
        log_det = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol)))
        return -0.5 * (used * _LOG_2PI + log_det + jnp.sum(y * y, axis=0))

    return lax.map(one, (means, cov)).T


def _e_step(x, weights, means, cov, dim_mask, covariance):
    """(log responsibilities [n, K], mean log-likelihood per sample)."""
    log_prob = _log_gaussians(x, means, cov, dim_mask, covariance) + jnp.log(weights)[None, :]
    log_norm = logsumexp(log_prob, axis=1, keepdims=True)
    return log_prob - log_norm, jnp.mean(log_norm)


def fit_gmm(x, key, num_components: int, covariance: str, num_iters: int, tol, reg, dim_mask=None) -> dict:
    """EM fit of a K-component mixture to x [n, D] (module docstring). Pure jnp, jittable.

    Returns {"weights" [K], "means" [K, D], "covariances" ([K, D] diagonal or [K, D, D] full),
    "posteriors" [n, K] (rows sum to 1), "log_likelihood" (mean per sample, used dims only),
    "iterations"}.
    """
    n, d = x.shape
    dim_mask = jnp.ones(d, x.dtype) if dim_mask is None else dim_mask.astype(x.dtype)
    centers = x[initial_indices(key, n, num_components)]
    dist = jnp.sum(x * x, axis=1, keepdims=True) - 2.0 * x @ centers.T + jnp.sum(centers**2, axis=1)[None, :]
    resp = jax.nn.one_hot(jnp.argmin(dist, axis=1), num_components, dtype=x.dtype)
    params = _m_step(x, resp, dim_mask, covariance, reg)

    def cond(state):
        it, _, _, change = state
        return (it < num_iters) & (change > tol)

    def body(state):
        it, params, previous, _ = state
        log_resp, loglik = _e_step(x, *params, dim_mask, covariance)
        params = _m_step(x, jnp.exp(log_resp), dim_mask, covariance, reg)
        return it + 1, params, loglik, jnp.abs(loglik - previous)

    inf = jnp.asarray(jnp.inf, x.dtype)
    iterations, params, _, _ = lax.while_loop(cond, body, (0, params, -inf, inf))
    log_resp, loglik = _e_step(x, *params, dim_mask, covariance)
    weights, means, cov = params
    return {
        "weights": weights,
        "means": means,
        "covariances": cov,
        "posteriors": jnp.exp(log_resp),
        "log_likelihood": loglik,
        "iterations": iterations,
    }


__all__ = ["fit_gmm", "initial_indices", "COVARIANCES"]
