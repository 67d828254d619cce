"""TransRate against a float64 loop over classes written from the coding-rate formulas, and properties."""
import numpy as np
import pytest

from transel_jax.metrics.transrate import transrate

N, D = 90, 5


def reference_transrate(feats, labels, num_classes, eps=0.01, class_weights="frequency"):
    """R(Z) - sum_c w_c R(Z_c), R(Z) = 1/2 logdet(I + D/(n eps^2) Z^T Z), Z centred, tr(Z^T Z/n)/D = 1."""
    z = np.asarray(feats, np.float64)
    z = z - z.mean(axis=0)
    z = z / np.sqrt(np.mean(z**2))
    d = z.shape[1]

    def rate(rows):
        return 0.5 * np.linalg.slogdet(np.eye(d) + d / (len(rows) * eps**2) * rows.T @ rows)[1]

    present = [c for c in range(num_classes) if np.any(labels == c)]
    conditional = 0.0
    for c in present:
        rows = z[labels == c]
        weight = len(rows) / len(z) if class_weights == "frequency" else 1.0 / len(present)
        conditional += weight * rate(rows)
    return rate(z) - conditional


def _data(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, N).astype(np.int32)  # class 3 of 4 absent
    feats = rng.normal(size=(4, D))[labels] * 2.0 + rng.normal(size=(N, D)) * rng.uniform(0.2, 2.0, D) + 5.0
    return feats.astype(np.float32), labels


@pytest.mark.parametrize("class_weights", ["frequency", "uniform"])
def test_matches_float64_reference(class_weights):
    feats, labels = _data(0)
    want = reference_transrate(feats, labels, 4, class_weights=class_weights)
    assert want > 0.2  # well away from 0: a real signal
    np.testing.assert_allclose(float(transrate(feats, labels, 4, class_weights=class_weights)), want, rtol=2e-4)
    np.testing.assert_allclose(float(transrate(feats, labels, 4, eps=0.5, class_weights=class_weights)),
                               reference_transrate(feats, labels, 4, 0.5, class_weights), rtol=2e-4)


def test_onehot_features_beat_noise_and_invariances():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, N).astype(np.int32)
    onehot = np.zeros((N, D), np.float32)
    onehot[np.arange(N), labels] = 1.0  # the fifth dimension is constant: a zero eigenvalue, no NaN
    noise = rng.normal(size=(N, D)).astype(np.float32)
    good, bad = float(transrate(onehot, labels, 4)), float(transrate(noise, labels, 4))
    assert np.isfinite(good) and good > bad + 5.0  # about (C - 2)/2 log(1e4) = 9.2 nats apart
    assert -1e-4 < bad < 1.0  # rate reduction >= 0; noise carries little information about y
    perm = rng.permutation(N)
    np.testing.assert_allclose(float(transrate(noise[perm] * 7.0 + 3.0, labels[perm], 4)), bad, rtol=1e-3, atol=1e-4)


def test_validation():
    feats, labels = _data(0)
    with pytest.raises(ValueError, match="eps"):
        transrate(feats, labels, 4, eps=0.0)
    with pytest.raises(ValueError, match="class_weights"):
        transrate(feats, labels, 4, class_weights="balanced")
    with pytest.raises(ValueError, match="labels"):
        transrate(feats, labels[:-1], 4)
