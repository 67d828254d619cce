"""The exact pruned IoU pass: certify each (ensemble, pixel) argmax from the members' top-K lists, and
run the dense computation only on the pixels that could not be certified.

Per chunk of m pixels of one true class y (see ``kernels.class_chunk_stats``), ``prepare`` keeps, per
source s and pixel i, its K largest EEP values ``top_v[s, k, i]`` with their classes ``top_c[s, k, i]``,
the (K+1)-th largest value ``bound[s, i]`` (every class outside the list has p_s(c | x_i) <= bound) and
the true-class value ``q[s, i] = p_s(y | x_i)``.

For an ensemble with members m_0..m_{S-1}, the candidates are the classes in the members' lists; for
each, the exact float32 sum x_c = p_{m_0}(c) + p_{m_1}(c) + ... (members in order: the dense pass's
value, bit for bit) is read from the chunk at that class only (S lookups per candidate instead of a pass
over C). Every class in no list has x_c <= sum_j bound_{m_j}. The pixel is *certified* when the largest
candidate x* is attained by one class only and x* - tol > sum_j bound_{m_j}; ``tol = 4 S^2 2^-23``
exceeds twice the float32 rounding of a sum of S values in [0, 1], so no unlisted class can reach or tie
x* in float32 either. A certified pixel's argmax is then the dense pass's unique argmax, and q is the same
float32 sum of the members' true-class values times 1/S, so it contributes exactly what the dense pass
would give it.

Uncertified pixels (flat rows, near-ties, exact ties) are returned as 32-pixel bit masks per ensemble;
the scorer unpacks them into (ensemble, pixel) items and sends those to ``dense_pixel_stats``, the dense
computation (``kernels.dense_stats``, ties split evenly) of each item alone: S contiguous reads of C
values from the pixel-major chunk. Every pixel is counted once.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from transel_jax.ensembles.kernels import _map, _member_sum, dense_stats, sum_log
from transel_jax.metrics.eep import EPS

BLOCK = 32  # pixels per uncertified bit mask (one uint32)
ITEM_BATCH = 256  # uncertified (ensemble, pixel) items vmapped per step of the fallback


# the pair table (``table``) is used while it stays below this size (N^2 K m floats)
PAIR_TABLE_BYTES = 256 << 20


def use_pair_table(num_sources: int, top: int, pixel_chunk: int) -> bool:
    """Whether the pair table of N sources, K-long lists and ``pixel_chunk`` pixels fits PAIR_TABLE_BYTES."""
    return num_sources * num_sources * top * pixel_chunk * 4 <= PAIR_TABLE_BYTES


def tolerance(size: int) -> float:
    return 4.0 * size * size * 2.0 ** -23


def prepare(chunk_nmc, label, top: int):
    """Per-source top-K lists of a chunk [N, m, C] (float32): (top_c int32 [N, K, m], top_v [N, K, m],
    bound [N, m], q [N, m]). The kernel's lookups read either the chunk itself or ``table``.

    K rounds of max / argmax / mask (lax.top_k sorts each row on CPU: 3-5 s per 64 x 1024 x 134 chunk,
    against milliseconds here); a tie inside a member's row leaves the tied value as its bound, which
    stays a valid upper bound.
    """
    num_classes = chunk_nmc.shape[-1]
    k = min(top, num_classes)
    work = chunk_nmc
    iota = lax.broadcasted_iota(jnp.int32, work.shape, 2)
    values, classes = [], []
    for _ in range(k):
        cls = jnp.argmax(work, axis=-1).astype(jnp.int32)
        values.append(jnp.max(work, axis=-1))
        classes.append(cls)
        work = jnp.where(iota == cls[..., None], -1.0, work)  # probabilities are >= 0
    bound = jnp.maximum(jnp.max(work, axis=-1), 0.0)  # 0 when every class is listed
    q = lax.dynamic_index_in_dim(chunk_nmc, label, axis=2, keepdims=False)
    top_c = jnp.stack(classes, axis=1)
    return top_c, jnp.stack(values, axis=1), bound, q


def table(chunk_nmc, top_c):
    """The pair table [N, K, N, m] ``[a, k, b, i] = p_b(top_c[a, k, i] | x_i)``: every source's value at
    every other source's listed classes, so the kernel reads contiguous pixel rows instead of gathering
    S^2 K scattered values per pixel (N^2 K m floats: 16 MiB at N = 64, K = 1, m = 1024)."""
    return jnp.take_along_axis(chunk_nmc[None, None], top_c[:, :, None, :, None], axis=4)[..., 0]


def pruned_chunk_stats(pixel_major, top_c, top_v, bound, q_rows, label, weights, ensembles, *, batch: int = 1,
                       num_classes: int | None = None):
    """Statistics of the certified pixels of every ensemble on one single-class chunk.

    pixel_major: the lookup values, either the chunk float32 [N, m, C] (read at the candidate
    classes only: a pixel's C values share a cache line or two, so the lookups stream through each member's
    [m, C] block) or its pair table [N, K, N, m] (contiguous rows, no gather; the same float32 values, so
    the same sums bit for bit); the lists of ``prepare``, label int32 scalar, weights [m], ensembles int32
    [E, S]; num_classes C (static; needed with a pair table). Returns (true [E, 5] as
    ``kernels.TRUE_FIELDS`` over certified pixels, except log q, summed over every real pixel;
    pred_wrong [E, C] and spread_wrong [E, C]: counts and sums of 1 - q of certified wrong pixels by
    predicted class (certified correct pixels are the true column's r); bits uint32 [E, m/32]: the
    uncertified real pixels).
    """
    size = ensembles.shape[1]
    lists = top_c.shape[1]
    num_pixels = top_c.shape[2]
    table = pixel_major.ndim == 4
    if not table:
        num_classes = pixel_major.shape[2]
        flat = pixel_major.reshape(-1)  # one 1-d gather per lookup, no copy of a member's rows
    elif num_classes is None:
        raise ValueError("num_classes: expected the class count with a pair table, got None")
    tol = jnp.float32(tolerance(size))

    def lookup(members, j, k, j2, cls):
        """p_{m_j2}(top_c[m_j, k] | x_i) for every pixel i [m]."""
        if table:
            row = lax.dynamic_index_in_dim(pixel_major, members[j], 0, keepdims=False)[k]
            return lax.dynamic_index_in_dim(row, members[j2], 0, keepdims=False)
        pixel = jnp.arange(num_pixels, dtype=jnp.int32)
        return flat[(members[j2] * num_pixels + pixel) * num_classes + cls]

    def one(members):
        tc = [lax.dynamic_index_in_dim(top_c, members[j], 0, keepdims=False) for j in range(size)]
        tv = [lax.dynamic_index_in_dim(top_v, members[j], 0, keepdims=False) for j in range(size)]
        best_c = best_x = None
        cands = []
        for j in range(size):
            for k in range(lists):
                cls = tc[j][k]
                x = None
                for j2 in range(size):  # the exact float32 sum, in member order, as in the dense pass
                    val = tv[j][k] if j2 == j else lookup(members, j, k, j2, cls)
                    x = val if x is None else x + val
                cands.append((cls, x))
                if best_c is None:
                    best_c, best_x = cls, x
                else:
                    better = x > best_x
                    best_c, best_x = jnp.where(better, cls, best_c), jnp.where(better, x, best_x)
        tied = jnp.zeros(best_x.shape, bool)
        for cls, x in cands:
            tied = tied | ((x == best_x) & (cls != best_c))
        rival = lax.dynamic_index_in_dim(bound, members[0], 0, keepdims=False)
        for j in range(1, size):
            rival = rival + lax.dynamic_index_in_dim(bound, members[j], 0, keepdims=False)
        real = weights > 0
        cert = (best_x - tol > rival) & ~tied & real
        qq = _member_sum(q_rows, members) * (1.0 / size)
        miss = 1.0 - qq
        right = cert & (best_c == label)
        wrong = cert & (best_c != label)
        r = jnp.where(right, weights, 0.0)
        ww = jnp.where(wrong, weights, 0.0)
        log_q = sum_log(jnp.where(real, jnp.maximum(qq, EPS), 1.0))
        true = jnp.stack([jnp.sum(r), jnp.sum(qq * r), jnp.sum(miss * ww), jnp.float32(0.0), log_q])
        slot = jnp.where(wrong, best_c, num_classes)
        # one scatter of (w, (1 - q) w) pairs: 12% faster for the whole kernel than two scatters of floats
        # (benchmarks/iou_kernels.py, peaked, C = 20; the scatter is about half of the kernel's time)
        both = jnp.zeros((num_classes + 1, 2), jnp.float32).at[slot].add(jnp.stack([ww, miss * ww], axis=1))
        pred, spread = both[:num_classes, 0], both[:num_classes, 1]
        unc = (real & ~cert).reshape(-1, BLOCK).astype(jnp.uint32)
        bits = jnp.sum(unc << jnp.arange(BLOCK, dtype=jnp.uint32), axis=1, dtype=jnp.uint32)
        return true, pred, spread, bits

    return _map(one, ensembles, batch)


def dense_pixel_stats(chunk_nmc, label, weights, items, *, batch: int = ITEM_BATCH):
    """The dense pass on single uncertified (ensemble, pixel) items.

    chunk_nmc float32 [N, m, C] (pixel-major: a member's C values at a pixel are one contiguous read);
    items int32 [P, S + 1]: the members, then the pixel index (-1: padding, contributes nothing).
    Returns ``kernels.dense_stats`` of each item on its own, not summed (true [P, 5] with log q column 0,
    pred [P, C], spread [P, C]); ``batch`` items are vmapped per step. The caller sums them per ensemble.
    """
    size = items.shape[1] - 1

    def one(item):
        pixel = item[size]
        at = jnp.maximum(pixel, 0)
        w = jnp.where(pixel >= 0, weights[at], 0.0)
        x = chunk_nmc[item[0], at]
        for j in range(1, size):  # the float32 sum in member order, as in the dense pass
            x = x + chunk_nmc[item[j], at]
        return dense_stats(x[:, None], label, w[None], size, split_ties=True, with_log=False)

    return _map(one, items, batch)


def replicated_prepare(mesh, top: int):
    """``prepare`` jitted so that its outputs are replicated over ``mesh``."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    rep = NamedSharding(mesh, P())
    return jax.jit(functools.partial(prepare, top=top), out_shardings=(rep,) * 4)


def replicated_table(mesh):
    """``table`` jitted so that its output is replicated over ``mesh``."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    return jax.jit(table, out_shardings=NamedSharding(mesh, P()))
