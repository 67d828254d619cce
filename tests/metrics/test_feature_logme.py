"""LogME against a float64 reference built on explicit D x D matrices, and the Gaussian evidence identity."""
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from transel_jax.metrics.logme import PRECISION_MAX, PRECISION_MIN, logme, logme_per_class


def reference_class_fit(f, y, tol=1e-10, max_iter=10000):
    """Fixed point with A = alpha I + beta F^T F and m = beta A^-1 F^T y (no SVD); returns (alpha, beta)."""
    n, d = f.shape
    gram = f.T @ f
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        a_inv = np.linalg.inv(alpha * np.eye(d) + beta * gram)
        m = beta * a_inv @ f.T @ y
        gamma = d - alpha * np.trace(a_inv)
        new_alpha = np.clip(gamma / max(m @ m, 1e-12), PRECISION_MIN, PRECISION_MAX)
        new_beta = np.clip((n - gamma) / max(np.sum((y - f @ m) ** 2), 1e-12), PRECISION_MIN, PRECISION_MAX)
        change = abs(new_alpha / new_beta - alpha / beta) / (alpha / beta)
        alpha, beta = new_alpha, new_beta
        if change < tol:
            break
    return alpha, beta


def gaussian_evidence(f, y, alpha, beta):
    """log N(y | 0, F F^T / alpha + I / beta) / n: the marginal likelihood the fixed point maximises."""
    n = f.shape[0]
    cov = f @ f.T / alpha + np.eye(n) / beta
    return multivariate_normal(mean=np.zeros(n), cov=cov).logpdf(y) / n


def reference_logme(feats, labels, num_classes):
    f = np.asarray(feats, np.float64)
    scores = []
    for c in range(num_classes):
        y = np.array([1.0 if label == c else 0.0 for label in labels])
        if y.sum() == 0:
            continue
        alpha, beta = reference_class_fit(f, y)
        scores.append(gaussian_evidence(f, y, alpha, beta))
    return float(np.mean(scores))


def _data(seed, n, d, num_classes, shift=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    feats = rng.normal(size=(num_classes, d))[labels] * shift + rng.normal(size=(n, d))
    return feats.astype(np.float32), labels


@pytest.mark.parametrize(
    "n, d, num_classes, present",
    [(150, 10, 4, 4), (150, 10, 6, 3), (80, 6, 2, 2)],
    ids=["random", "absent-classes", "two-classes"],
)
def test_matches_reference(n, d, num_classes, present):
    feats, labels = _data(0, n, d, present)
    got = float(logme(feats, labels, num_classes, tol=1e-6))
    np.testing.assert_allclose(got, reference_logme(feats, labels, num_classes), rtol=1e-3)
    loose = float(logme(feats, labels, num_classes))  # default tol: the evidence is stationary there
    np.testing.assert_allclose(loose, got, rtol=1e-3)


@pytest.mark.parametrize("n, d", [(150, 10), (12, 40)], ids=["n>D", "n<D"])
def test_evidence_equals_gaussian_marginal_likelihood_at_returned_precisions(n, d):
    feats, labels = _data(1, n, d, 3)
    feats[:, 1] = 0.0  # a constant (dead) dimension
    terms = logme_per_class(feats, labels, 3)
    f = feats.astype(np.float64)
    for c in range(3):
        y = (labels == c).astype(np.float64)
        alpha, beta = float(terms["alpha"][c]), float(terms["beta"][c])
        assert np.isfinite(float(terms["evidence"][c]))
        np.testing.assert_allclose(float(terms["evidence"][c]), gaussian_evidence(f, y, alpha, beta), rtol=2e-3, atol=1e-3)


def test_offset_features_with_a_constant_column_match_reference():
    """Post-ReLU-like features (large mean, a constant channel) are ill-conditioned: F^T F in float32
    would lose the direction separating the constant channel from the mean, the SVD must not."""
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 4, 150).astype(np.int32)
    feats = rng.normal(size=(4, 10))[labels] * 0.5 + rng.normal(size=(150, 10)) * rng.uniform(0.02, 3, 10) + 50.0
    feats[:, 3] = 1.0
    feats = feats.astype(np.float32)
    got = float(logme(feats, labels, 4, tol=1e-6))
    np.testing.assert_allclose(got, reference_logme(feats, labels, 4), rtol=1e-3)


def test_one_sample_per_class_and_absent_class_are_finite():
    feats, _ = _data(2, 4, 3, 4)
    got = float(logme(feats, np.arange(4, dtype=np.int32), 6))
    assert np.isfinite(got)


def test_separable_features_beat_noise_and_permutation_invariance():
    feats, labels = _data(3, 150, 10, 4, shift=4.0)
    noise = np.random.default_rng(4).normal(size=feats.shape).astype(np.float32)
    separable = float(logme(feats, labels, 4))
    assert separable > float(logme(noise, labels, 4)) + 0.1
    perm = np.random.default_rng(5).permutation(150)
    np.testing.assert_allclose(float(logme(feats[perm], labels[perm], 4)), separable, rtol=1e-4)
