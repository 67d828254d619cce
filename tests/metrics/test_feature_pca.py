"""PCA reduction against a float64 SVD reference, with the variance-order and distance properties."""
import numpy as np
import pytest

from transel_jax.metrics.pca import pca_reduce


def reference_pca(feats, dims):
    x = np.asarray(feats, np.float64)
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    f = min(dims, *x.shape)
    scores = u[:, :f] * s[:f]
    for k in range(f):  # sign rule: each column's largest-magnitude entry is positive
        if scores[np.argmax(np.abs(scores[:, k])), k] < 0:
            scores[:, k] *= -1
    return scores


def _features(seed, n, d):
    rng = np.random.default_rng(seed)
    spectrum = 2.0 ** -np.arange(d)  # well separated principal variances
    basis = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return (rng.normal(size=(n, d)) * np.sqrt(spectrum * 10) @ basis.T + 5.0).astype(np.float32)


@pytest.mark.parametrize("n, d, dims", [(80, 8, 4), (6, 8, 4), (40, 5, 32)], ids=["n>D", "n<D", "dims>D"])
def test_matches_reference(n, d, dims):
    feats = _features(0, n, d)
    got = np.asarray(pca_reduce(feats, dims))
    ref = reference_pca(feats, dims)
    assert got.shape == ref.shape == (n, min(dims, n, d))
    keep = slice(0, min(got.shape[1], n - 1))  # with n <= D the last centred direction has zero variance
    np.testing.assert_allclose(got[:, keep], ref[:, keep], atol=2e-3 * np.abs(ref).max())


def test_variance_order_orthogonality_and_distances():
    feats = _features(1, 80, 8)
    z = np.asarray(pca_reduce(feats, 8), np.float64)
    variances = z.var(axis=0)
    assert np.all(np.diff(variances) <= 1e-6 * variances[0])
    gram = z.T @ z
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-3 * gram[0, 0])
    x = feats - feats.mean(axis=0)
    np.testing.assert_allclose(z @ z.T, x @ x.T, atol=1e-3 * np.abs(x @ x.T).max())  # full rotation
    perm = np.random.default_rng(2).permutation(80)
    np.testing.assert_allclose(np.abs(np.asarray(pca_reduce(feats[perm], 3))), np.abs(z[perm, :3]), atol=1e-3)
