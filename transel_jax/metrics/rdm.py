"""Representation dissimilarity matrices (RDMs) and the statistics that compare them.

Shared by PARC, RSA and DDS (paper 003, Sec. 3.2 and 5). All functions are pure jnp and jittable;
an RDM of n samples is an [n, n] array and compares through its strict upper triangle, n(n-1)/2 values.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from transel_jax.metrics._feature_inputs import TINY, normalize_rows


def correlation_rdm(x: jnp.ndarray) -> jnp.ndarray:
    """1 - corrcoef(x): [n, D] -> [n, n], Pearson correlation between *rows* (samples).

    D[i, j] = 1 - <x_i - mean(x_i), x_j - mean(x_j)> / (||x_i - mean(x_i)|| ||x_j - mean(x_j)||).
    A constant row has no defined correlation; it is given correlation 0 (dissimilarity 1) to every row.
    """
    z = normalize_rows(x, center=True)
    return 1.0 - z @ z.T


def cosine_rdm(x: jnp.ndarray) -> jnp.ndarray:
    """1 - cosine similarity between rows: [n, D] -> [n, n]; an all-zero row has similarity 0."""
    z = normalize_rows(x, center=False)
    return 1.0 - z @ z.T


def upper_triangle(m: jnp.ndarray) -> jnp.ndarray:
    """Strict upper triangle of m [n, n] in row-major order: [n(n-1)/2] (np.triu_indices(n, 1))."""
    rows, cols = jnp.triu_indices(m.shape[0], k=1)
    return m[rows, cols]


def rankdata(x: jnp.ndarray) -> jnp.ndarray:
    """1-based ranks of x [m], ties get their average rank (scipy.stats.rankdata(method='average')).

    One argsort; in sorted order a tie group spanning positions first..last (0-based) gets rank
    (first + last) / 2 + 1, found with a running max of group starts and a reverse running min of ends.
    """
    m = x.shape[0]
    order = jnp.argsort(x)
    ordered = x[order]
    position = jnp.arange(m)
    change = ordered[1:] != ordered[:-1]
    starts = jnp.concatenate([jnp.ones(1, bool), change])
    ends = jnp.concatenate([change, jnp.ones(1, bool)])
    first = lax.cummax(jnp.where(starts, position, 0))
    last = lax.cummin(jnp.where(ends, position, m - 1), reverse=True)
    dtype = jnp.promote_types(x.dtype, jnp.float32)  # exact ranks up to 2**24 values in float32
    return jnp.zeros(m, dtype).at[order].set((first + last + 2).astype(dtype) / 2)


def rankdata_host(x) -> np.ndarray:
    """:func:`rankdata` on the host with numpy: the same float32 average-tie ranks, bit for bit.

    For concrete inputs on a CPU backend (issue 15 item 5): XLA's CPU sort of the ~2M upper-triangle
    entries of a 2000-sample RDM takes about 3x as long as numpy's introsort (see
    benchmarks/feature_metrics.py). In sorted order a tie group spanning positions first..last gets
    (first + last + 2) / 2, exactly as in the jnp version (ties compare equal, so the unstable sort's
    order inside a group does not matter; -0.0 ties with 0.0 in both). Returns float32 [m].
    """
    x = np.asarray(x)
    m = x.shape[0]
    order = np.argsort(x)
    ordered = x[order]
    starts = np.concatenate([[0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1])
    ends = np.concatenate([starts[1:] - 1, [m - 1]])
    ranks = np.empty(m, np.float32)
    ranks[order] = np.repeat(((starts + ends + 2) / 2).astype(np.float32), ends - starts + 1)
    return ranks


def pearson(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """Pearson correlation of two vectors [m]; 0 when either is constant (instead of 0/0)."""
    a = a - a.mean()
    b = b - b.mean()
    denom = jnp.sqrt(jnp.sum(a * a) * jnp.sum(b * b))
    return jnp.where(denom > TINY, jnp.sum(a * b) / jnp.maximum(denom, TINY), 0.0)


def spearman(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """Spearman rank correlation of two vectors [m] = Pearson of their average-tie ranks.

    Matches scipy.stats.spearmanr; returns 0 (not NaN) when either vector is constant.
    """
    return pearson(rankdata(a), rankdata(b))


def spearman_binary(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """spearman(a, b) for a binary b [m] (values 0/1) with a single ranking.

    The average-tie ranks of a 0/1 vector are an increasing affine function of it, and Pearson
    correlation is invariant to those, so spearman(a, b) = pearson(rankdata(a), b).
    """
    return pearson(rankdata(a), b)


def u_center(rdm: jnp.ndarray) -> jnp.ndarray:
    """U-centring of a symmetric [n, n] matrix (Szekely & Rizzo 2014), n >= 3.

    A~[i, j] = a_ij - a_i. / (n-2) - a_.j / (n-2) + a_.. / ((n-1)(n-2)) for i != j, and 0 on the
    diagonal, where a_i. are row sums of ``rdm`` with its diagonal set to 0.
    """
    n = rdm.shape[0]
    off = rdm * (1.0 - jnp.eye(n, dtype=rdm.dtype))
    row = off.sum(axis=1) / (n - 2)
    total = off.sum() / ((n - 1) * (n - 2))
    centered = off - row[:, None] - row[None, :] + total
    return centered * (1.0 - jnp.eye(n, dtype=rdm.dtype))


def debiased_cka(rdm_a: jnp.ndarray, rdm_b: jnp.ndarray) -> jnp.ndarray:
    """<A~, B~>_F / (||A~||_F ||B~||_F) of two U-centred [n, n] matrices; 0 if either is constant.

    With distance matrices this is the bias-corrected distance correlation; with Gram matrices it is
    debiased CKA (Kornblith et al. 2019), the comparison DDS uses.
    """
    a = u_center(rdm_a)
    b = u_center(rdm_b)
    denom = jnp.sqrt(jnp.sum(a * a) * jnp.sum(b * b))
    return jnp.where(denom > TINY, jnp.sum(a * b) / jnp.maximum(denom, TINY), 0.0)
