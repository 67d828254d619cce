"""Shrinkage H-Score (Ibrahim et al. 2022) against a float64 Ledoit-Wolf loop, and its limit H-Score."""
import numpy as np
import pytest

from transel_jax.metrics.hscore import h_score, shrinkage_h_score

D, C = 5, 3


def reference(feats, labels, num_classes):
    """Ledoit-Wolf (2004) with target mu I written per sample, then tr(Sigma_a^-1 (1 - a) cov(E[f|y]))."""
    x = np.asarray(feats, np.float64)
    x = x - x.mean(axis=0)
    n, d = x.shape
    s = x.T @ x / n
    mu = np.trace(s) / d
    delta2 = np.sum((s - mu * np.eye(d)) ** 2)
    b2 = sum(np.sum((np.outer(row, row) - s) ** 2) for row in x) / n**2
    alpha = min(b2, delta2) / delta2
    shrunk = (1 - alpha) * s + alpha * mu * np.eye(d)
    g = np.zeros_like(x)
    for c in range(num_classes):
        if np.any(labels == c):
            g[labels == c] = x[labels == c].mean(axis=0)
    return float(np.trace(np.linalg.inv(shrunk) @ ((1 - alpha) * g.T @ g / n))), alpha


def _data(seed, n):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, C, n).astype(np.int32)
    scales = np.array([0.3, 0.6, 1.0, 2.0, 3.0])  # anisotropic: the population is not mu I, alpha -> 0
    feats = rng.normal(size=(C, D))[labels] * 0.7 + rng.normal(size=(n, D)) * scales + 10.0
    return feats.astype(np.float32), labels


@pytest.mark.parametrize("n", [12, 200], ids=["n~D", "n>>D"])
def test_matches_float64_reference(n):
    feats, labels = _data(0, n)
    score, alpha = shrinkage_h_score(feats, labels, C, return_alpha=True)
    want, want_alpha = reference(feats, labels, C)
    np.testing.assert_allclose(float(alpha), want_alpha, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(float(score), want, rtol=1e-3)
    assert 0.0 < float(alpha) < 1.0


def test_tends_to_h_score_as_n_grows():
    small, small_labels = _data(1, 200)
    large, large_labels = _data(1, 20000)
    _, alpha_small = shrinkage_h_score(small, small_labels, C, return_alpha=True)
    score_large, alpha_large = shrinkage_h_score(large, large_labels, C, return_alpha=True)
    assert float(alpha_large) < float(alpha_small) / 20 and float(alpha_large) < 2e-3  # alpha = O(1/n)
    np.testing.assert_allclose(float(score_large), float(h_score(large, large_labels, C)), rtol=5e-3)
    assert float(score_large) <= float(h_score(large, large_labels, C)) + 1e-4  # shrinking only lowers H here


def test_fewer_samples_than_dimensions_is_finite_and_validated():
    rng = np.random.default_rng(2)
    feats = rng.normal(size=(4, 9)).astype(np.float32)
    score, alpha = shrinkage_h_score(feats, np.array([0, 1, 2, 0], np.int32), C, return_alpha=True)
    assert np.isfinite(float(score)) and 0.0 < float(alpha) <= 1.0
    with pytest.raises(ValueError, match="rcond"):
        shrinkage_h_score(feats, np.zeros(4, np.int32), C, rcond=1.5)
