"""The 003 heuristic (eq. 4) and +depth calibration (eq. 6) against plain float64 loops."""
import math

import numpy as np

from transel_jax.metrics.heuristic import depth_calibrate, heuristic_score


def test_heuristic_matches_formula():
    depth = np.array([18, 50, 101, 23])
    sizes = np.array([1_000, 118_000, 20_210, 2_975])
    got = np.asarray(heuristic_score(depth, sizes, 150))
    expected = [depth[s] + math.log(sizes[s] + 150) for s in range(4)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_depth_calibration_matches_formula_per_target():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(3, 5)).astype(np.float32)  # 3 targets x 5 sources
    depth = np.array([18, 34, 50, 101, 23])
    got = np.asarray(depth_calibrate(scores, depth, max_depth=50))
    for t in range(3):
        mu = sum(scores[t]) / 5
        sigma = math.sqrt(sum((a - mu) ** 2 for a in scores[t]) / 5)
        for s in range(5):
            assert math.isclose(got[t, s], (scores[t, s] - mu) / sigma + depth[s] / 50, rel_tol=1e-5, abs_tol=1e-5)


def test_depth_calibration_properties():
    scores = np.array([0.3, 0.1, 0.7, 0.5], np.float32)
    depth = np.array([10, 20, 40, 20])
    base = np.asarray(depth_calibrate(scores, depth))
    np.testing.assert_allclose(np.asarray(depth_calibrate(scores * 4.0 - 9.0, depth)), base, atol=1e-5)
    np.testing.assert_allclose(base - depth / 40, (scores - scores.mean()) / scores.std(), atol=1e-5)
    flat = np.asarray(depth_calibrate(np.full(4, 2.5, np.float32), depth, max_depth=50))
    np.testing.assert_allclose(flat, depth / 50)  # equal scores: only the depth term remains
