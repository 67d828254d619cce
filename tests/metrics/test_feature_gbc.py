"""GBC against a float64 loop reference with explicit covariance matrices and determinants."""
import numpy as np
import pytest

from transel_jax.metrics.gbc import gbc


def reference_gbc(feats, labels, num_classes, covariance, min_variance=1e-4):
    f = np.asarray(feats, np.float64)
    stats = {}
    for c in range(num_classes):
        rows = f[labels == c]
        if len(rows) == 0:
            continue
        var = rows.var(axis=0)
        if covariance == "spherical":
            var = np.full_like(var, var.mean())
        stats[c] = (rows.mean(axis=0), np.diag(np.maximum(var, min_variance)))
    total = 0.0
    for i, (mu_i, cov_i) in stats.items():
        for j, (mu_j, cov_j) in stats.items():
            if i == j:
                continue
            cov = (cov_i + cov_j) / 2
            delta = mu_i - mu_j
            distance = delta @ np.linalg.inv(cov) @ delta / 8 + 0.5 * np.log(
                np.linalg.det(cov) / np.sqrt(np.linalg.det(cov_i) * np.linalg.det(cov_j))
            )
            total += np.exp(-distance)
    return -total


def _data(seed, n, d, num_classes, shift=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    feats = rng.normal(size=(num_classes, d))[labels] * shift + rng.normal(size=(n, d)) * rng.uniform(0.5, 2, d)
    return feats.astype(np.float32), labels


@pytest.mark.parametrize("covariance", ["diagonal", "spherical"])
@pytest.mark.parametrize(
    "n, d, num_classes, present",
    [(100, 6, 4, 4), (100, 6, 6, 3), (50, 6, 2, 2)],
    ids=["random", "absent-classes", "two-classes"],
)
def test_matches_reference(n, d, num_classes, present, covariance):
    feats, labels = _data(0, n, d, present)
    got = float(gbc(feats, labels, num_classes, covariance=covariance))
    np.testing.assert_allclose(got, reference_gbc(feats, labels, num_classes, covariance), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("covariance", ["diagonal", "spherical"])
def test_one_sample_per_class_constant_dim_and_n_below_d(covariance):
    feats, _ = _data(1, 4, 6, 4)
    feats[:, 3] = 2.0
    labels = np.arange(4, dtype=np.int32)
    got = float(gbc(feats, labels, 4, covariance=covariance))
    assert np.isfinite(got)
    np.testing.assert_allclose(got, reference_gbc(feats, labels, 4, covariance), rtol=1e-4, atol=1e-6)


def test_separation_bounds_and_permutation():
    feats, labels = _data(2, 100, 6, 4)
    base = float(gbc(feats, labels, 4))
    assert -12.0 <= base <= 0.0
    far, _ = _data(2, 100, 6, 4, shift=50.0)
    assert float(gbc(far, labels, 4)) > -1e-3  # well-separated classes: every BC ~ 0
    same = np.random.default_rng(3).normal(size=(4000, 2)).astype(np.float32)
    mixed = np.random.default_rng(4).integers(0, 2, 4000).astype(np.int32)
    np.testing.assert_allclose(float(gbc(same, mixed, 2)), -2.0, atol=0.01)  # identical classes: BC = 1
    perm = np.random.default_rng(5).permutation(100)
    np.testing.assert_allclose(float(gbc(feats[perm], labels[perm], 4)), base, rtol=1e-5)
