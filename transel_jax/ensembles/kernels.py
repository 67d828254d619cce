"""Jitted per-chunk kernels of the all-ensembles scorer.

Both kernels map over a list of ensembles (``lax.map``; ``batch`` ensembles are vmapped together per
step: 1 on CPU, where a loop of small fused bodies is fastest, larger on accelerators) and reduce over
one chunk of pixels, so the working set is [batch, C, m] and [E, n, C] never exists. They return
float32 partial sums that the host accumulates in float64 across chunks.

``class_chunk_stats`` needs the pixels of a chunk to share one true class y: the scorer sorts pixels by
label and cuts single-class chunks, so every per-true-class statistic is a plain sum over the chunk and
only the predicted-class histogram costs a pass over C.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from transel_jax.metrics.eep import safe_log

# Columns of the per-ensemble "true class" statistics returned by class_chunk_stats.
TRUE_FIELDS = ("tp", "tp_soft", "fn_soft", "fp_soft_own", "log_q")


def _map(fn, ensembles, batch: int):
    """lax.map over ensembles; ``batch`` > 1 vmaps that many per step. batch_size=1 is not passed on:
    lax.map would then vmap a batch of one, turning the cheap dynamic row slices into a gather (3x
    slower on CPU, measured)."""
    return lax.map(fn, ensembles) if batch == 1 else lax.map(fn, ensembles, batch_size=batch)


def _member_sum(rows, members):
    """sum_j rows[members[j]] for a static number of members (dynamic row indices)."""
    total = lax.dynamic_index_in_dim(rows, members[0], axis=0, keepdims=False)
    for j in range(1, members.shape[0]):
        total = total + lax.dynamic_index_in_dim(rows, members[j], axis=0, keepdims=False)
    return total


@functools.partial(jax.jit, static_argnames=("split_ties", "batch"))
def class_chunk_stats(eep_chunk, label, weights, ensembles, *, split_ties: bool, batch: int = 1):
    """Sufficient statistics of every ensemble on a chunk of pixels of one true class.

    Args:
      eep_chunk: float32 [N, C, m] EEP predictions of all N sources at the m pixels (class-major).
      label: int32 scalar, the true class y of every pixel in the chunk.
      weights: float32 [m], 1 for real pixels, 0 for padding.
      ensembles: int32 [E, S].
      split_ties: if False, assume every pixel's ensemble maximum is attained by one class (the caller
        checks ``pred.sum(-1) == weights.sum()`` and recomputes offending ensembles with True, which
        splits a tied pixel evenly among its maximising classes).
    Returns:
      true: float32 [E, 5] sums over the chunk of, per TRUE_FIELDS: r (hard correct fraction), q*r,
        (1-q)*(w-r), (1-q)*r, w*log q, where q = p_ens(y | x) and r the weighted correctness.
      pred: float32 [E, C] weighted count of pixels predicted as each class.
      spread: float32 [E, C] sum of (1 - q) * weight over pixels predicted as each class.
    """
    size = ensembles.shape[1]

    def one(members):
        x = _member_sum(eep_chunk, members)  # [C, m], S * p_ens
        top = jnp.max(x, axis=0)  # [m]
        hit = x == top
        xy = lax.dynamic_index_in_dim(x, label, axis=0, keepdims=False)  # [m]
        q = xy * (1.0 / size)
        u = weights / jnp.sum(hit, axis=0) if split_ties else weights
        r = jnp.where(xy == top, u, 0.0)
        miss = 1.0 - q
        true = jnp.stack([
            jnp.sum(r), jnp.sum(q * r), jnp.sum(miss * (weights - r)), jnp.sum(miss * r),
            jnp.sum(weights * safe_log(q)),
        ])
        pred = jnp.sum(jnp.where(hit, u, 0.0), axis=1)
        spread = jnp.sum(jnp.where(hit, miss * u, 0.0), axis=1)
        return true, pred, spread

    return _map(one, ensembles, batch)


@functools.partial(jax.jit, static_argnames=("batch",))
def log_mean_sums(q_chunk, weights, ensembles, *, batch: int = 1):
    """sum_i w_i log((1/S) sum_s q[s, i]) for every ensemble: the E-LEEP numerator on a pixel chunk.

    q_chunk float32 [N, m] holds p_s(y_i | x_i); weights [m]; ensembles int32 [E, S] -> float32 [E].
    """
    size = ensembles.shape[1]
    return _map(
        lambda members: jnp.sum(weights * safe_log(_member_sum(q_chunk, members) * (1.0 / size))), ensembles, batch
    )
