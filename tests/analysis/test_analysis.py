"""Relative transfer gain and domain distance against plain loops."""
import itertools
import math

import numpy as np
import pytest

from transel_jax.analysis import distance_matrix, domain_distance, pool_features, relative_transfer_gain


def _dist(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def test_relative_transfer_gain():
    m = np.array([[0.50, 0.60], [0.30, 0.24]])
    base = np.array([0.50, 0.30])
    gain = relative_transfer_gain(m, base[:, None])
    np.testing.assert_allclose(gain, [[0.0, 20.0], [0.0, -20.0]], atol=1e-9)
    assert relative_transfer_gain(2.0, 4.0, lower_is_better=True) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="baseline: expected positive"):
        relative_transfer_gain(m, np.zeros((2, 1)))


def test_domain_distance_variants_match_loops():
    rng = np.random.default_rng(0)
    t, s = rng.normal(size=(5, 3)), rng.normal(size=(7, 3)) + 0.5
    t2s = sum(min(_dist(a, b) for b in s) for a in t) / len(t)
    s2t = sum(min(_dist(a, b) for a in t) for b in s) / len(s)
    assert domain_distance(t, s) == pytest.approx(t2s)
    assert domain_distance(t, s, "source_to_target") == pytest.approx(s2t)
    assert domain_distance(t, s, "symmetric") == pytest.approx((t2s + s2t) / 2)
    # EMD: brute force over all injective assignments of the 5 targets to 7 sources
    best = min(sum(_dist(t[i], s[j]) for i, j in enumerate(p)) for p in itertools.permutations(range(7), 5))
    assert domain_distance(t, s, "emd") == pytest.approx(best / 5)


def test_inclusion_is_asymmetric():
    rng = np.random.default_rng(1)
    broad = np.concatenate([rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 8])  # two domains
    narrow = rng.normal(size=(30, 2)) + 8  # only the second
    # the broad dataset includes the narrow one, not the other way round
    assert domain_distance(narrow, broad) < domain_distance(broad, narrow)
    feats = {"broad": broad, "narrow": narrow}
    matrix = distance_matrix(feats, ["narrow", "broad"], ["broad", "narrow"])
    assert matrix[0, 0] == pytest.approx(domain_distance(narrow, broad))
    assert matrix.shape == (2, 2)
    with pytest.raises(ValueError, match="missing"):
        distance_matrix(feats, ["other"], ["broad"])


def test_pool_features_and_bad_input():
    maps = np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 2, 3, 4)
    np.testing.assert_allclose(pool_features(maps), maps.reshape(2, 6, 4).mean(1))
    with pytest.raises(ValueError, match=r"source: expected feature size D \(matching target\) = 3, got 4"):
        domain_distance(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="assignment: expected one of"):
        domain_distance(np.zeros((2, 3)), np.zeros((2, 3)), "nearest")
    with pytest.raises(ValueError, match="target: expected finite"):
        domain_distance(np.full((2, 3), np.nan), np.zeros((2, 3)))
