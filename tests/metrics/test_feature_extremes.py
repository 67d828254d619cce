"""Issue 12 item 9: finite inputs of any magnitude (1e-30 ... 1e30) give finite scores, and scale-invariant
metrics give the same score as at magnitude 1; unrepresentable inputs are rejected with a message."""
import numpy as np
import pytest

from transel_jax.metrics import features as fm

N, D, C = 48, 4, 3
RNG = np.random.default_rng(1234)
LABELS = RNG.integers(0, C, N).astype(np.int32)
FEATS = (RNG.normal(size=(C, D))[LABELS] * 1.5 + RNG.normal(size=(N, D))).astype(np.float32)
REFERENCE = RNG.normal(size=(N, 3)).astype(np.float32)
# Randomised magnitudes (seeded) plus both ends of the range.
SCALES = [1e-30, 1e30] + [float(10.0 ** e) for e in RNG.uniform(-30, 30, 2)]

# N-LEEP's magnitude check is in test_feature_nleep.py (it reuses that file's compiled shapes).
INVARIANT = {  # metric(feats) that must not depend on the magnitude of feats
    "h_score": lambda f: fm.h_score(f, LABELS, C),
    "shrinkage_h_score": lambda f: fm.shrinkage_h_score(f, LABELS, C),
    "transrate": lambda f: fm.transrate(f, LABELS, C),
    "parc": lambda f: fm.parc(f, LABELS, C),
    "rsa": lambda f: fm.rsa(f, REFERENCE),
    "dds unstandardized": lambda f: fm.dds(f, REFERENCE, standardize=False),
    "parc_vectors": lambda f: fm.parc_vectors(REFERENCE, f),  # f as g(y): the unstandardised row path
    "nn1": lambda f: fm.nn1_loo_accuracy(f, LABELS, C),
    "depth_calibrate": lambda f: fm.depth_calibrate(f[:, 0], np.arange(N) % 7 + 1.0),
    "pca_reduce / scale": None,  # checked below with the scale divided out
}


@pytest.mark.parametrize("name", sorted(INVARIANT))
def test_scale_invariant_metrics_are_finite_and_unchanged(name):
    if name.startswith("pca"):
        def metric(f):
            return np.asarray(fm.pca_reduce(f, 2), np.float64) / (np.abs(f).max() / np.abs(FEATS).max())
    else:
        metric = INVARIANT[name]
    base = np.asarray(metric(FEATS), np.float64)
    for scale in SCALES:
        got = np.asarray(metric((FEATS * np.float32(scale)).astype(np.float32)), np.float64)
        assert np.all(np.isfinite(got)), (name, scale)
        np.testing.assert_allclose(got, base, rtol=2e-3, atol=2e-4, err_msg=f"{name} at scale {scale:g}")


def test_scale_dependent_metrics_are_finite():
    """LogME's fixed point depends on its start (alpha = 1 in input units) and GBC's variance floor is in
    feature units: finite everywhere; GBC with its floor scaled along is unchanged."""
    base_gbc = float(fm.gbc(FEATS, LABELS, C))
    for scale in SCALES:
        f = (FEATS * np.float32(scale)).astype(np.float32)
        assert np.isfinite(float(fm.logme(f, LABELS, C))), scale
        assert np.isfinite(float(fm.gbc(f, LABELS, C))), scale
        scaled_floor = float(fm.gbc(f, LABELS, C, min_variance=1e-4 * scale**2))
        np.testing.assert_allclose(scaled_floor, base_gbc, rtol=1e-3, err_msg=f"gbc at scale {scale:g}")


def test_unrepresentable_inputs_are_rejected():
    with pytest.raises(ValueError, match="float32"):
        fm.h_score(FEATS.astype(np.float64) * 1e300, LABELS, C)
    with pytest.raises(ValueError, match="float32"):
        fm.transrate((FEATS * np.float32(1e-40)).astype(np.float32), LABELS, C)  # subnormal: XLA flushes it
    with pytest.raises(ValueError, match="float32"):
        fm.depth_calibrate(np.array([1e300, 1.0]), np.array([1.0, 2.0]))
