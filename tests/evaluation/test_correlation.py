"""Rank correlations, selection quality and aggregation over probe seeds."""
import numpy as np
import pytest
import scipy.stats

from transel_jax.evaluation import (
    aggregate_over_seeds, correlations, kendall_tau, pearson, regret, relative_top1, weighted_tau,
)


def test_perfect_and_reversed_rankings():
    actual = np.array([0.1, 0.5, 0.3, 0.9, 0.7])
    assert weighted_tau(actual, 2 * actual + 1) == pytest.approx(1.0)
    assert kendall_tau(actual, -actual) == pytest.approx(-1.0)
    assert weighted_tau(actual, -actual) == pytest.approx(-1.0)


def test_weighted_tau_counts_the_top_more_and_uses_actual_for_weights():
    actual = np.arange(10.0)
    swap_top = actual.copy()
    swap_top[[9, 8]] = swap_top[[8, 9]]
    swap_bottom = actual.copy()
    swap_bottom[[0, 1]] = swap_bottom[[1, 0]]
    assert kendall_tau(actual, swap_top) == pytest.approx(kendall_tau(actual, swap_bottom))
    assert weighted_tau(actual, swap_top) < weighted_tau(actual, swap_bottom)
    rng = np.random.default_rng(0)
    a, p = rng.random(30), rng.random(30)
    assert weighted_tau(a, p) == pytest.approx(scipy.stats.weightedtau(a, p, rank=True).statistic)


def test_pearson_matches_the_definition():
    rng = np.random.default_rng(1)
    a, p = rng.random(20), rng.random(20)
    da, dp = a - a.mean(), p - p.mean()
    assert pearson(a, p) == pytest.approx(float(np.sum(da * dp) / np.sqrt(np.sum(da**2) * np.sum(dp**2))))
    assert set(correlations(a, p)) == {"weighted_tau", "kendall_tau", "pearson"}


@pytest.mark.parametrize("fn", [weighted_tau, kendall_tau, pearson])
def test_a_constant_side_is_undefined_an_error_or_the_value_asked_for(fn):
    a = np.array([0.3, 0.1, 0.2, 0.5])
    with pytest.raises(ValueError, match=r"predicted: expected at least two distinct values .*constant"):
        fn(a, np.full(4, 0.7))
    with pytest.raises(ValueError, match=r"actual: expected at least two distinct values"):
        fn(np.full(4, 0.5), a)
    assert fn(a, np.full(4, 0.7), if_constant=0.0) == 0.0  # as the study records "no ranking information"
    assert fn(a, a, if_constant=0.0) == pytest.approx(1.0)  # varying sides: the keyword changes nothing
    assert correlations(a, np.ones(4), if_constant=-2.0) == {"weighted_tau": -2.0, "kendall_tau": -2.0,
                                                             "pearson": -2.0}


def test_selection_quality():
    actual = np.array([0.40, 0.50, 0.45])
    assert relative_top1(actual, [3, 2, 1]) == pytest.approx(0.40 / 0.50)
    assert regret(actual, [3, 2, 1]) == pytest.approx(0.10)
    assert relative_top1(actual, [0, 9, 1]) == 1.0 and regret(actual, [0, 9, 1]) == 0.0


def test_aggregate_over_seeds():
    per_seed = {"t1": {"leep": [0.1, 0.3], "parc": [0.5, 0.5]}, "t2": {"leep": [0.2, 0.6], "parc": [0.1, 0.3]}}
    table = aggregate_over_seeds(per_seed)
    assert table["t1"]["leep"] == pytest.approx((0.2, 0.1))
    assert table["mean"]["leep"][0] == pytest.approx(np.mean([0.2, 0.4]))
    assert table["mean"]["parc"][1] == pytest.approx(np.std([0.5, 0.2]))


@pytest.mark.parametrize("a,p,match", [
    ([1.0, 2.0], [1.0], "predicted: expected K"),
    ([1.0], [1.0], "at least 2 candidates"),
    ([1.0, np.nan], [1.0, 2.0], "actual: expected finite"),
    ([[1.0, 2.0]], [1.0, 2.0], "actual: expected a 1-d"),
])
def test_bad_input(a, p, match):
    with pytest.raises(ValueError, match=match):
        weighted_tau(a, p)
