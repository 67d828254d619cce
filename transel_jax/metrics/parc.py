"""PARC, RSA and DDS: compare the samples' pairwise dissimilarities in two representations (paper 003).

All three build an [n, n] representation dissimilarity matrix (RDM) of the source features and compare
it with the RDM of a reference: the one-hot target labels (PARC), or the features of a probe model
trained on the target (RSA, DDS). Memory is O(n^2): call them on a subsample of a few thousand pixels.
Features are z-scored per dimension first, as in the authors' released evaluation code (003 eq. 7 itself
is silent on it); ``standardize=False`` skips that.

Ranking (issue 15 item 5): the Spearman correlations rank the n(n-1)/2 upper-triangle entries. With
concrete inputs on a CPU backend the ranks are computed on the host with numpy (rdm.rankdata_host, the
same ranks bit for bit, about 3x faster than XLA's CPU sort there); traced inputs, and other backends,
rank in jnp inside the kernel. ``host_rank`` overrides the choice.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from transel_jax import checks
from transel_jax.metrics import rdm
from transel_jax.metrics._feature_inputs import check_feats_labels, check_paired_feats, standardize_columns


def _feature_rdm(feats: jnp.ndarray, standardize: bool) -> jnp.ndarray:
    return rdm.correlation_rdm(standardize_columns(feats) if standardize else feats)


def use_host_ranks(host_rank, *arrays) -> bool:
    """Rank on the host? Never for traced inputs; ``host_rank`` None means: when jax runs on CPU."""
    if any(checks.is_traced(a) for a in arrays):
        return False
    if host_rank is None:
        return jax.default_backend() == "cpu"
    return bool(host_rank)


_pearson = jax.jit(rdm.pearson)


@partial(jax.jit, static_argnames=("standardize",))
def _parc_triangles(feats, labels, standardize):
    d_feats = rdm.upper_triangle(_feature_rdm(feats, standardize))
    # D_y up to its positive factor C/(C-1), which Spearman (rank-based) ignores: one compiled kernel
    # serves every num_classes, and equal labels tie exactly.
    d_labels = rdm.upper_triangle(labels[:, None] != labels[None, :])
    return d_feats, d_labels.astype(d_feats.dtype)


@partial(jax.jit, static_argnames=("standardize",))
def _parc(feats, labels, standardize):
    return rdm.spearman_binary(*_parc_triangles(feats, labels, standardize))


def parc(feats, labels, num_classes: int, *, standardize: bool = True, host_rank: bool | None = None) -> jnp.ndarray:
    """PARC (003 eq. 7-8): Spearman correlation between the upper triangles of D_f and D_y.

    D_f = 1 - corrcoef(f) (Pearson correlation between the samples' feature vectors) and
    D_y = 1 - corrcoef(onehot(y)); PARC = spearmanr({D_f[i,j]: i<j}, {D_y[i,j]: i<j}) in [-1, 1]
    (the paper reports it x100). Higher means the features separate the target classes better.
    Two one-hot rows of C entries correlate 1 if equal and -1/(C-1) otherwise, so D_y[i, j] is exactly
    0 if y_i = y_j and C/(C-1) otherwise; it is computed in that closed form, so ties are exact.

    Args:
      feats: float [n, D] source features of n >= 2 samples (PCA-reduce to f=32 first, as 003 does).
      labels: int [n] target class indices 0..C-1.
      num_classes: C >= 2 (validates the label range; the score does not depend on it otherwise).
      standardize: z-score each feature dimension first (authors' code); then PARC is invariant to
        per-dimension affine rescaling of the features, otherwise to per-sample ones.
      host_rank: rank D_f on the host with numpy (True), in jnp (False), or numpy exactly when the
        inputs are concrete and jax runs on CPU (None, default; module docstring). Same result.

    Returns a float32 scalar; 0 when D_y is constant (all labels equal, or all distinct), where the
    Spearman correlation is undefined. Jittable; O(n^2) memory, O(n^2 log n) time.
    """
    num_classes = check_feats_labels(feats, labels, num_classes, min_rows=2)
    if num_classes < 2:
        raise ValueError(f"num_classes: expected an integer >= 2 (one-hot correlation needs 2 classes), got {num_classes}")
    feats, labels = jnp.asarray(feats), jnp.asarray(labels)
    if use_host_ranks(host_rank, feats, labels):
        d_feats, d_labels = _parc_triangles(feats, labels, bool(standardize))
        return _pearson(jnp.asarray(rdm.rankdata_host(d_feats)), d_labels)
    return _parc(feats, labels, bool(standardize))


@partial(jax.jit, static_argnames=("standardize",))
def _parc_vectors_triangles(feats, label_vectors, standardize):
    d_feats = rdm.upper_triangle(_feature_rdm(feats, standardize))
    return d_feats, rdm.upper_triangle(rdm.correlation_rdm(label_vectors))


@partial(jax.jit, static_argnames=("standardize",))
def _parc_vectors(feats, label_vectors, standardize):
    return rdm.spearman(*_parc_vectors_triangles(feats, label_vectors, standardize))


def _host_spearman(a, b):
    """Spearman of two concrete vectors with host ranks and the jitted Pearson."""
    return _pearson(jnp.asarray(rdm.rankdata_host(a)), jnp.asarray(rdm.rankdata_host(b)))


def parc_vectors(feats, label_vectors, *, standardize: bool = True, host_rank: bool | None = None) -> jnp.ndarray:
    """PARC with a general annotation vector g(y) per sample (003 Sec. 5 and 6.2).

    PARC = spearmanr(upper(1 - corrcoef(f)), upper(1 - corrcoef(g))) for g [n, K] of any width, e.g.
    the per-image class histogram of a label map (the "pixel-wise average of the annotations" 003
    suggests for segmentation) to score at image level. With g = onehot(y) this equals :func:`parc`.
    Unlike ``feats``, ``label_vectors`` are never z-scored; a constant row of g correlates 0 with all.

    Args: feats float [n, D], n >= 2; label_vectors float [n, K]; standardize, host_rank as in :func:`parc`.
    Returns a float32 scalar in [-1, 1]. Jittable; O(n^2) memory.
    """
    check_paired_feats(feats, label_vectors, min_rows=2, reference_name="label_vectors")
    feats, label_vectors = jnp.asarray(feats), jnp.asarray(label_vectors)
    if use_host_ranks(host_rank, feats, label_vectors):
        return _host_spearman(*_parc_vectors_triangles(feats, label_vectors, bool(standardize)))
    return _parc_vectors(feats, label_vectors, bool(standardize))


@partial(jax.jit, static_argnames=("standardize",))
def _rsa_triangles(feats, reference, standardize):
    d_feats = rdm.upper_triangle(_feature_rdm(feats, standardize))
    return d_feats, rdm.upper_triangle(_feature_rdm(reference, standardize))


@partial(jax.jit, static_argnames=("standardize",))
def _rsa(feats, reference, standardize):
    return rdm.spearman(*_rsa_triangles(feats, reference, standardize))


def rsa(feats, reference, *, standardize: bool = True, host_rank: bool | None = None) -> jnp.ndarray:
    """RSA (Dwivedi & Roig 2019, as used in 003): Spearman between 1 - corrcoef RDMs.

    RSA = spearmanr(upper(1 - corrcoef(f)), upper(1 - corrcoef(r))) in [-1, 1], where r are the
    features of a reference ("probe") model trained on the target, for the same n samples.

    Args:
      feats: float [n, D] source features, n >= 2.
      reference: float [n, D_r] reference-model features of the same samples.
      standardize: z-score each dimension of both first (as the 003 authors' code does).
      host_rank: as in :func:`parc` (two rankings here).

    Returns a float32 scalar. Jittable; O(n^2) memory.
    """
    check_paired_feats(feats, reference, min_rows=2)
    feats, reference = jnp.asarray(feats), jnp.asarray(reference)
    if use_host_ranks(host_rank, feats, reference):
        return _host_spearman(*_rsa_triangles(feats, reference, bool(standardize)))
    return _rsa(feats, reference, bool(standardize))


@partial(jax.jit, static_argnames=("standardize",))
def _dds(feats, reference, standardize):
    if standardize:
        feats, reference = standardize_columns(feats), standardize_columns(reference)
    return rdm.debiased_cka(rdm.cosine_rdm(feats), rdm.cosine_rdm(reference))


def dds(feats, reference, *, standardize: bool = True) -> jnp.ndarray:
    """DDS (Dwivedi et al. 2020) in the variant 003 picks: z-score, cosine RDMs, debiased comparison.

    DDS = <A~, B~>_F / (||A~||_F ||B~||_F) with A = 1 - cos(f_i, f_j), B = 1 - cos(r_i, r_j) computed
    on per-dimension z-scored features, and ~ the U-centring of :func:`rdm.u_center` (the unbiased
    HSIC estimator's centring; this is debiased CKA of the two RDMs, as in the DDS release that 003 ran).

    Args:
      feats: float [n, D] source features, n >= 3 (U-centring divides by n - 2).
      reference: float [n, D_r] reference-model features of the same samples.
      standardize: z-score each dimension of both first (the chosen variant); False skips it.

    Returns a float32 scalar in [-1, 1]. Jittable; O(n^2) memory.
    """
    check_paired_feats(feats, reference, min_rows=3)
    return _dds(jnp.asarray(feats), jnp.asarray(reference), bool(standardize))


__all__ = ["parc", "parc_vectors", "rsa", "dds"]
