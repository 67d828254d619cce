"""N-LEEP (PCA 80% + seeded Gaussian mixture + LEEP) against a float64 numpy EM written from the formulas."""
import jax
import numpy as np
import pytest

from transel_jax.metrics.gmm import initial_indices
from transel_jax.metrics.nleep import kept_dims, nleep, nleep_terms

N, D, C = 120, 6, 3


def _clusters(seed, spread):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(C), N // C).astype(np.int32)
    centers = rng.normal(size=(C, D)) * spread
    feats = centers[labels] + rng.normal(size=(N, D)) * rng.uniform(0.5, 1.5, D)
    return feats.astype(np.float32), labels


def reference_nleep(feats, labels, num_classes, components, seed, iters, covariance, reg=1e-4, kept=0.8):
    """PCA keeping >= 80% of the variance, the documented EM (fixed rounds), LEEP of the posteriors."""
    x = np.asarray(feats, np.float64)
    x = x - x.mean(axis=0)
    lam, vec = np.linalg.eigh(x.T @ x / len(x))
    lam, vec = lam[::-1], vec[:, ::-1]
    k = int(np.argmax(np.cumsum(lam) / lam.sum() >= kept - 1e-12)) + 1
    z = x @ vec[:, :k] / np.sqrt(lam[:k].mean())
    n = len(z)
    idx = np.asarray(initial_indices(jax.random.key(seed), n, components))
    dist = ((z[:, None, :] - z[idx][None, :, :]) ** 2).sum(-1)
    resp = np.eye(components)[dist.argmin(1)]

    def m_step(resp):
        nk = resp.sum(0) + 10 * np.finfo(np.float32).eps
        means = resp.T @ z / nk[:, None]
        covs = []
        for j in range(components):
            diff = z - means[j]
            cov = (resp[:, j, None] * diff).T @ diff / nk[j] + reg * np.eye(k)
            covs.append(np.diag(np.diag(cov)) if covariance == "diagonal" else cov)
        return nk / n, means, covs

    def posteriors(weights, means, covs):
        logp = np.empty((n, components))
        for j in range(components):
            diff = z - means[j]
            inv = np.linalg.inv(covs[j])
            logp[:, j] = np.log(weights[j]) - 0.5 * (
                k * np.log(2 * np.pi) + np.linalg.slogdet(covs[j])[1] + np.einsum("nd,de,ne->n", diff, inv, diff))
        logp -= logp.max(1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(1, keepdims=True)

    params = m_step(resp)
    for _ in range(iters):
        params = m_step(posteriors(*params))
    post = posteriors(*params)
    onehot = np.eye(num_classes)[labels]
    joint = onehot.T @ post / n
    cond = joint / joint.sum(0, keepdims=True)
    return float(np.mean(np.log((post @ cond.T)[np.arange(n), labels]))), k


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
def test_matches_float64_reference(covariance):
    feats, labels = _clusters(0, spread=0.8)  # overlapping clusters: the posteriors are genuinely soft
    terms = nleep_terms(feats, labels, C, num_components=4, covariance=covariance, num_iters=15, tol=0.0, seed=3)
    want, k = reference_nleep(feats, labels, C, 4, 3, 15, covariance)
    assert terms["dims"] == k and int(terms["iterations"]) == 15
    assert -1.0 < want < -0.05  # not a trivial case
    np.testing.assert_allclose(float(terms["score"]), want, atol=2e-3)
    np.testing.assert_allclose(np.asarray(terms["posteriors"]).sum(1), 1.0, atol=1e-5)


def test_separated_clusters_near_zero_and_better_than_mixed():
    feats, labels = _clusters(1, spread=12.0)
    separated = float(nleep(feats, labels, C, seed=0))
    assert -1e-3 < separated <= 1e-6  # log-likelihood of the right class ~ log 1
    mixed = float(nleep(feats, np.random.default_rng(2).permutation(labels), C, seed=0))
    assert mixed < separated - 0.5  # ~ -log 3 when the clusters say nothing about the labels


def test_seeded_and_deterministic_and_jittable():
    feats, labels = _clusters(0, spread=0.8)
    a = nleep_terms(feats, labels, C, num_components=4, seed=7)
    b = nleep_terms(feats, labels, C, num_components=4, seed=jax.random.key(7))
    assert np.array_equal(np.asarray(a["posteriors"]), np.asarray(b["posteriors"]))  # same seed, same bytes
    other = nleep_terms(feats, labels, C, num_components=4, seed=8)
    assert not np.array_equal(np.asarray(a["posteriors"]), np.asarray(other["posteriors"]))
    for scale in (1e-30, 3.7e-11, 2.2e17, 1e30):  # issue 12 item 9: any finite magnitude, same score
        scaled = nleep_terms((feats * np.float32(scale)).astype(np.float32), labels, C, num_components=4, seed=7)
        np.testing.assert_allclose(float(scaled["score"]), float(a["score"]), atol=1e-4)
    # Under jit k is chosen inside: the extra dimensions are masked and the score is unchanged.
    jitted = jax.jit(lambda f, y: nleep(f, y, C, num_components=4, seed=7, max_dims=D))(feats, labels)
    np.testing.assert_allclose(float(jitted), float(a["score"]), atol=1e-5)


def test_kept_dims_and_validation():
    assert kept_dims([5.0, 3.0, 1.0, 1.0], 0.8) == 2 and kept_dims([1.0, 1.0, 1.0, 1.0, 1.0], 0.8) == 4
    assert kept_dims([0.0, 0.0], 0.8) == 1
    feats, labels = _clusters(0, 0.8)
    with pytest.raises(ValueError, match="variance_kept"):
        nleep(feats, labels, C, variance_kept=0.0)
    with pytest.raises(ValueError, match="covariance"):
        nleep(feats, labels, C, covariance="tied")
    with pytest.raises(ValueError, match="labels"):
        nleep(feats, labels + 1, C)
