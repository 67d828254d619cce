"""Per-chunk kernels of the all-ensembles scorer, and their placement on a device mesh.

Both kernels map over a list of ensembles (``lax.map``; ``batch`` ensembles are vmapped together per
step: 1 on CPU, where a loop of small fused bodies is fastest, larger on accelerators) and reduce over
one chunk of pixels, so the working set is [batch, C, m] and [E, n, C] never exists. They return float32
partial sums that the host accumulates in float64 across chunks. ``on_mesh`` shards the ensemble list
over the devices of a mesh (every device holds the whole pixel chunk), so all cores or accelerators
work at once.

``class_chunk_stats`` needs the pixels of a chunk to share one true class y: the scorer sorts pixels by
label and cuts single-class chunks, so every per-true-class statistic is a plain sum over the chunk and
only the predicted-class histogram costs a pass over C.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from transel_jax.metrics.eep import EPS

AXIS = "ensembles"

# Columns of the per-ensemble "true class" statistics returned by class_chunk_stats.
TRUE_FIELDS = ("tp", "tp_soft", "fn_soft", "fp_soft_own", "log_q")

# sum_log multiplies mantissas in groups of this many values (each in [1, 2), so a product < 2**16).
LOG_GROUP = 16


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


def sum_log(x):
    """sum(log x) of a positive float32 vector [m] (m a multiple of LOG_GROUP).

    Writing x = 2**e * f with f in [1, 2), the exponents are summed exactly as integers and the log is
    taken only of products of LOG_GROUP mantissas: one log per 16 values. On CPU this is 2x faster than
    jnp.log over every element (measured by benchmarks/score_ensembles.py); the relative error per value
    is ~1e-7, the same order as float32 log itself.
    """
    bits = lax.bitcast_convert_type(x, jnp.int32)
    exponent = (bits >> 23) - 127
    mantissa = lax.bitcast_convert_type((bits & 0x7FFFFF) | 0x3F800000, jnp.float32)
    product = jnp.prod(mantissa.reshape(LOG_GROUP, -1), axis=0)  # rows multiply elementwise: vectorises
    return jnp.sum(jnp.log(product)) + jnp.sum(exponent).astype(jnp.float32) * np.float32(np.log(2.0))


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
        return dense_stats(_member_sum(eep_chunk, members), label, weights, size, split_ties)

    return _map(one, ensembles, batch)


def dense_stats(x, label, weights, size: int, split_ties: bool, with_log: bool = True):
    """The statistics of ``class_chunk_stats`` for one ensemble from x = S * p_ens, float32 [C, m].

    x is the running sum p_{m_0} + p_{m_1} + ... in member order; the ensemble's prediction is the set
    of classes whose x equals max_c x exactly (the documented tie rule); q = x_y * (1/S).
    ``with_log=False`` leaves the log q column 0 (the pruned pass sums it over every pixel itself).
    """
    top = jnp.max(x, axis=0)  # [m]
    hit = x == top
    xy = lax.dynamic_index_in_dim(x, label, axis=0, keepdims=False)  # [m]
    q = xy * (1.0 / size)
    u = weights / jnp.sum(hit, axis=0) if split_ties else weights
    r = jnp.where(xy == top, u, 0.0)
    miss = 1.0 - q
    log_q = jnp.sum(weights * jnp.log(jnp.maximum(q, EPS))) if with_log else jnp.float32(0.0)
    true = jnp.stack([jnp.sum(r), jnp.sum(q * r), jnp.sum(miss * (weights - r)), jnp.sum(miss * r), log_q])
    pred = jnp.sum(jnp.where(hit, u, 0.0), axis=1)
    spread = jnp.sum(jnp.where(hit, miss * u, 0.0), axis=1)
    return true, pred, spread


def log_mean_sums(q_chunk, weights, ensembles, *, batch: int = 1):
    """sum_i w_i log((1/S) sum_s q[s, i]) for every ensemble: the E-LEEP numerator on a pixel chunk.

    q_chunk float32 [N, m] holds p_s(y_i | x_i) (m a multiple of LOG_GROUP); weights [m] are 1 for real
    pixels and 0 for padding (which then contributes log 1 = 0); ensembles int32 [E, S] -> float32 [E].
    """
    size = ensembles.shape[1]

    def one(members):
        mean = jnp.maximum(_member_sum(q_chunk, members) * (1.0 / size), EPS)
        return sum_log(jnp.where(weights > 0, mean, 1.0))

    return _map(one, ensembles, batch)


@functools.lru_cache(maxsize=None)
def on_mesh(kernel, mesh: Mesh, num_args: int, **static):
    """``kernel`` jitted over ``mesh``: the last of its ``num_args`` arguments (the ensembles) is split
    along the mesh axis, the others are replicated; outputs come back split the same way."""
    body = functools.partial(kernel, **static)
    in_specs = (P(),) * (num_args - 1) + (P(AXIS),)
    return jax.jit(jax.shard_map(body, mesh=mesh, in_specs=in_specs, out_specs=P(AXIS)))
