"""1-NN leave-one-out and the logistic half-split probe against float64 references (loops, scipy L-BFGS)."""
import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp

from transel_jax.metrics.probes import fit_logistic, half_split, logistic_probe_accuracy, nn1_loo_accuracy


def reference_nn1_loo(feats, labels):
    f = np.asarray(feats, np.float64)
    n = f.shape[0]
    hits = 0
    for i in range(n):
        best, best_j = np.inf, -1
        for j in range(n):
            dist = np.sum((f[i] - f[j]) ** 2)
            if j != i and dist < best:
                best, best_j = dist, j
        hits += labels[best_j] == labels[i]
    return hits / n


def reference_logistic(feats, labels, num_classes, l2):
    f = np.asarray(feats, np.float64)
    n, d = f.shape

    def objective(theta):
        w, b = theta[: d * num_classes].reshape(d, num_classes), theta[d * num_classes :]
        logits = f @ w + b
        loss = np.mean(logsumexp(logits, axis=1) - logits[np.arange(n), labels])
        return loss + 0.5 * l2 * (np.sum(w**2) + np.sum(b**2))

    theta = minimize(objective, np.zeros(d * num_classes + num_classes), method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-14, "maxiter": 5000}).x
    return theta[: d * num_classes].reshape(d, num_classes), theta[d * num_classes :], objective


def _data(seed, n, d, num_classes, shift=1.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    feats = rng.normal(size=(num_classes, d))[labels] * shift + rng.normal(size=(n, d))
    return feats.astype(np.float32), labels


@pytest.mark.parametrize(
    "n, d, num_classes, present", [(60, 5, 4, 4), (60, 5, 6, 3), (60, 5, 2, 2), (12, 30, 3, 3)],
    ids=["random", "absent-classes", "two-classes", "n<D"],
)
def test_nn1_matches_reference(n, d, num_classes, present):
    feats, labels = _data(0, n, d, present)
    got = float(nn1_loo_accuracy(feats, labels, num_classes, block_size=16))
    assert got == pytest.approx(reference_nn1_loo(feats, labels), abs=1e-6)


def test_nn1_properties():
    feats, labels = _data(1, 60, 5, 4, shift=100.0)
    assert float(nn1_loo_accuracy(feats, labels, 4)) == 1.0  # perfectly clustered
    feats, labels = _data(2, 60, 5, 4)
    base = float(nn1_loo_accuracy(feats, labels, 4))
    perm = np.random.default_rng(3).permutation(60)
    assert float(nn1_loo_accuracy(feats[perm], labels[perm], 4, block_size=7)) == pytest.approx(base)
    pair = np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)  # duplicates: each one's neighbour is the other
    assert float(nn1_loo_accuracy(pair, np.array([0, 1], np.int32), 2)) == 0.0


def test_half_split_is_a_seeded_partition():
    train, test = half_split(11, 0)
    assert len(train) == 5 and len(test) == 6
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(11))
    np.testing.assert_array_equal(half_split(11, 0)[0], train)
    assert not np.array_equal(half_split(11, 1)[0], train)


def test_logistic_fit_reaches_the_reference_optimum():
    feats, labels = _data(4, 30, 5, 4, shift=1.5)  # 30 rows: the probe's training half reuses this kernel
    labels[labels == 3] = 1  # class 3 absent from the training rows: the L2 term keeps its bias finite
    l2 = 0.05
    params = fit_logistic(feats, labels, 4, l2=l2)
    w_ref, b_ref, objective = reference_logistic(feats, labels, 4, l2)
    ours = np.concatenate([np.asarray(params["w"], np.float64).ravel(), np.asarray(params["b"], np.float64)])
    assert objective(ours) == pytest.approx(objective(np.concatenate([w_ref.ravel(), b_ref])), rel=1e-5)
    np.testing.assert_allclose(params["w"], w_ref, atol=2e-3)
    np.testing.assert_allclose(params["b"], b_ref, atol=2e-3)


def test_logistic_probe_accuracy_matches_reference_on_the_same_split():
    feats, labels = _data(5, 60, 5, 4, shift=1.5)
    feats = feats * np.linspace(0.1, 10, 5, dtype=np.float32) + 50.0  # badly scaled, post-ReLU-like
    train, test = (np.asarray(i) for i in half_split(60, 7))
    mean, std = feats[train].astype(np.float64).mean(axis=0), feats[train].astype(np.float64).std(axis=0)
    x_train, x_test = (feats[train] - mean) / std, (feats[test] - mean) / std
    w, b, _ = reference_logistic(x_train, labels[train], 4, 1e-3)
    expected = np.mean(np.argmax(x_test @ w + b, axis=1) == labels[test])
    got = float(logistic_probe_accuracy(feats, labels, 4, seed=7))
    assert abs(got - expected) <= 1.0 / len(test) + 1e-6  # at most one near-boundary test point may flip
    separated, _ = _data(5, 60, 5, 4, shift=50.0)
    assert float(logistic_probe_accuracy(separated, labels, 4, seed=7)) == 1.0
