"""PARC, RSA and DDS against float64 pair-loop references (np.corrcoef per pair, scipy.stats.spearmanr)."""
import jax
import numpy as np
import pytest
from scipy.stats import rankdata as scipy_rankdata
from scipy.stats import spearmanr

from transel_jax.metrics.parc import dds, parc, parc_vectors, rsa
from transel_jax.metrics.rdm import rankdata, spearman_binary


def zscore(x):
    x = np.asarray(x, np.float64)
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


def pair_dissimilarities(x, distance):
    n = x.shape[0]
    return np.array([distance(x[i], x[j]) for i in range(n) for j in range(i + 1, n)])


def corr_distance(a, b):
    return 1.0 - np.corrcoef(a, b)[0, 1]


def cos_distance(a, b):
    return 1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


def reference_parc(feats, labels, num_classes):
    onehot = np.eye(num_classes)[labels]
    d_feats = pair_dissimilarities(zscore(feats), corr_distance)
    # Rounding merges 1 - 0.9999999999999998 with 0: equal one-hot rows must tie exactly.
    d_labels = np.round(pair_dissimilarities(onehot, corr_distance), 12)
    return spearmanr(d_feats, d_labels).statistic


def reference_rsa(feats, reference):
    return spearmanr(
        pair_dissimilarities(zscore(feats), corr_distance), pair_dissimilarities(zscore(reference), corr_distance)
    ).statistic


def reference_dds(feats, reference):
    def u_centred(x):
        n = x.shape[0]
        a = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    a[i, j] = cos_distance(x[i], x[j])
        rows = a.sum(axis=1)
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    out[i, j] = a[i, j] - rows[i] / (n - 2) - rows[j] / (n - 2) + a.sum() / ((n - 1) * (n - 2))
        return out

    a, b = u_centred(zscore(feats)), u_centred(zscore(reference))
    return np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b))


def _data(seed, n, d, num_classes, shift=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    feats = rng.normal(size=(num_classes, d))[labels] * shift + rng.normal(size=(n, d)) * rng.uniform(0.5, 2, d)
    return feats.astype(np.float32), labels


@pytest.mark.parametrize(
    "n, d, num_classes, present",
    [(40, 8, 4, 4), (40, 8, 6, 3), (40, 8, 2, 2), (20, 40, 3, 3)],
    ids=["random", "absent-classes", "two-classes", "n<D"],
)
def test_parc_matches_reference(n, d, num_classes, present):
    feats, labels = _data(0, n, d, present)
    got = float(parc(feats, labels, num_classes))
    np.testing.assert_allclose(got, reference_parc(feats, labels, num_classes), atol=1e-5)


def test_parc_vectors_matches_reference_and_parc_on_one_hot():
    feats, labels = _data(13, 40, 8, 4)
    histograms = np.random.default_rng(14).dirichlet(np.ones(4), size=40).astype(np.float32)  # [n, K]
    expected = spearmanr(
        pair_dissimilarities(zscore(feats), corr_distance), pair_dissimilarities(histograms.astype(np.float64), corr_distance)
    ).statistic
    np.testing.assert_allclose(float(parc_vectors(feats, histograms)), expected, atol=1e-5)
    onehot = np.eye(4, dtype=np.float32)[labels]
    np.testing.assert_allclose(float(parc_vectors(feats, onehot)), float(parc(feats, labels, 4)), atol=1e-5)


def test_parc_degenerate_inputs_are_finite():
    feats, _ = _data(1, 5, 8, 5)
    distinct = np.arange(5, dtype=np.int32)  # one sample per class: D_y constant, spearman undefined
    assert float(parc(feats, distinct, 5)) == 0.0
    feats, labels = _data(2, 40, 8, 3)
    feats[0] = 1.0  # a constant row (after z-scoring still a non-constant row, but raw it is)
    feats[:, 4] = 3.0  # a constant dimension
    for standardize in (True, False):
        assert np.isfinite(float(parc(feats, labels, 3, standardize=standardize)))


def test_parc_invariances_and_ordering():
    feats, labels = _data(3, 40, 8, 4)
    base = float(parc(feats, labels, 4))
    scale = np.random.default_rng(4).uniform(0.1, 10, 8).astype(np.float32)
    np.testing.assert_allclose(float(parc(feats * scale - 2.0, labels, 4)), base, atol=1e-4)
    raw = float(parc(feats, labels, 4, standardize=False))
    np.testing.assert_allclose(float(parc(feats * 7.0 + 1.0, labels, 4, standardize=False)), raw, atol=1e-4)
    perm = np.random.default_rng(5).permutation(40)
    np.testing.assert_allclose(float(parc(feats[perm], labels[perm], 4)), base, atol=1e-5)
    clustered, _ = _data(3, 40, 8, 4, shift=6.0)
    assert float(parc(clustered, labels, 4)) > base > float(parc(np.random.default_rng(6).normal(size=(40, 8)).astype(np.float32), labels, 4))


def test_rsa_and_dds_match_reference():
    feats, labels = _data(7, 30, 8, 3)
    mixing = np.random.default_rng(8).normal(size=(3, 5))
    reference = (feats[:, :3] @ mixing + np.random.default_rng(9).normal(size=(30, 5))).astype(np.float32)
    np.testing.assert_allclose(float(rsa(feats, reference)), reference_rsa(feats, reference), atol=1e-5)
    np.testing.assert_allclose(float(dds(feats, reference)), reference_dds(feats, reference), atol=1e-5)


def test_rsa_and_dds_of_a_representation_with_itself_are_one():
    feats, _ = _data(10, 30, 8, 3)
    np.testing.assert_allclose(float(rsa(feats[:, :5], feats[:, :5] * 3.0)), 1.0, atol=1e-6)
    np.testing.assert_allclose(float(dds(feats[:, :5], feats[:, :5] * 3.0)), 1.0, atol=1e-5)


def test_rankdata_averages_ties():
    x = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 1.0], np.float32)
    expected = [5.0, 1.5, 5.0, 3.0, 5.0, 1.5]  # by hand: ranks 1-2 tie, 3, ranks 4-6 tie
    np.testing.assert_array_equal(np.asarray(jax.jit(rankdata)(x)), expected)
    many = np.random.default_rng(11).integers(0, 50, 400).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(jax.jit(rankdata)(many)), scipy_rankdata(many))


def test_spearman_binary_equals_spearman():
    rng = np.random.default_rng(12)
    a = rng.integers(0, 30, 300).astype(np.float32)  # with ties
    b = (rng.random(300) < 0.3).astype(np.float32)
    np.testing.assert_allclose(float(jax.jit(spearman_binary)(a, b)), spearmanr(a, b).statistic, atol=1e-6)
