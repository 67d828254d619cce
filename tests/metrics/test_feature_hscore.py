"""H-Score against a float64 loop reference (pseudo-inverse of the raw covariance) and its properties."""
import numpy as np
import pytest

from transel_jax.metrics.hscore import h_score


def reference_h_score(feats, labels, num_classes):
    f = np.asarray(feats, np.float64)
    n, d = f.shape
    mean = f.mean(axis=0)
    g = np.zeros_like(f)
    for c in range(num_classes):
        rows = [i for i in range(n) if labels[i] == c]
        if rows:
            g[rows] = f[rows].mean(axis=0)
    cov_f = np.zeros((d, d))
    cov_g = np.zeros((d, d))
    for i in range(n):
        cov_f += np.outer(f[i] - mean, f[i] - mean) / n
        cov_g += np.outer(g[i] - mean, g[i] - mean) / n
    return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-10, hermitian=True) @ cov_g))


def _data(seed, n, d, num_classes, shift=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    centers = rng.normal(size=(num_classes, d)) * shift
    feats = (centers[labels] + rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, d)).astype(np.float32)
    return feats, labels


@pytest.mark.parametrize(
    "n, d, num_classes, present",
    [(120, 8, 4, 4), (120, 8, 6, 3), (60, 5, 2, 2)],
    ids=["random", "absent-classes", "two-classes"],
)
def test_matches_reference(n, d, num_classes, present):
    feats, labels = _data(0, n, d, present)
    got = float(h_score(feats, labels, num_classes))
    np.testing.assert_allclose(got, reference_h_score(feats, labels, num_classes), rtol=2e-4, atol=1e-5)


def test_fewer_samples_than_dims_saturates_at_classes_minus_one():
    feats, labels = _data(1, 12, 30, 4)
    got = float(h_score(feats, labels, 4))
    ref = reference_h_score(feats, labels, 4)
    np.testing.assert_allclose(got, ref, rtol=1e-3)
    np.testing.assert_allclose(got, len(np.unique(labels)) - 1, rtol=1e-3)


def test_constant_dimension_and_one_sample_per_class_stay_finite():
    feats, labels = _data(2, 40, 6, 3)
    feats[:, 2] = 7.5
    got = float(h_score(feats, labels, 3))
    np.testing.assert_allclose(got, reference_h_score(feats, labels, 3), rtol=2e-4, atol=1e-5)
    one_each = float(h_score(feats[:3] + np.eye(3, 6, dtype=np.float32), np.arange(3, dtype=np.int32), 3))
    assert np.isfinite(one_each)


def test_invariances_and_bounds():
    feats, labels = _data(3, 120, 8, 4)
    base = float(h_score(feats, labels, 4))
    mixing = np.random.default_rng(4).normal(size=(8, 8)).astype(np.float32)
    np.testing.assert_allclose(float(h_score(feats @ mixing + 3.0, labels, 4)), base, rtol=2e-3)
    perm = np.random.default_rng(5).permutation(120)
    np.testing.assert_allclose(float(h_score(feats[perm], labels[perm], 4)), base, rtol=1e-4)
    assert 0.0 <= base <= 3.0
    separated, _ = _data(3, 120, 8, 4, shift=10.0)
    assert float(h_score(separated, labels, 4)) > base
