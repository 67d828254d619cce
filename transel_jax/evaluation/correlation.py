"""How well transferability scores predict actual fine-tuned performance.

Rank correlations follow the papers' code: weighted Kendall tau is ``scipy.stats.weightedtau(actual,
predicted)`` with its defaults (hyperbolic weigher, rank=True: the ranking by ``actual`` decides the
weights, so agreement at the top counts most); plain Kendall tau and Pearson are also reported.
Selection quality: relative top-1 accuracy = actual of the best-scored candidate / best actual, and
regret = best actual - actual of the best-scored candidate.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import scipy.stats

from transel_jax import checks


def _pair(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, np.float64)
    p = np.asarray(predicted, np.float64)
    checks.check_rank(a, "actual", 1, "[K]")
    checks.check_rank(p, "predicted", 1, "[K]")
    checks.check_dim("predicted", "K (candidates, matching actual)", p.shape[0], a.shape[0])
    if a.shape[0] < 2:
        raise ValueError(f"actual: expected at least 2 candidates to correlate, got {a.shape[0]}")
    checks.check_finite(a, "actual")
    checks.check_finite(p, "predicted")
    return a, p


def weighted_tau(actual, predicted) -> float:
    """scipy.stats.weightedtau(actual, predicted) with its defaults, as the papers compute it."""
    return float(scipy.stats.weightedtau(*_pair(actual, predicted)).statistic)


def kendall_tau(actual, predicted) -> float:
    return float(scipy.stats.kendalltau(*_pair(actual, predicted)).statistic)


def pearson(actual, predicted) -> float:
    a, p = _pair(actual, predicted)
    if np.ptp(a) == 0 or np.ptp(p) == 0:  # scipy warns and returns NaN for a constant input
        return float("nan")
    return float(scipy.stats.pearsonr(a, p).statistic)


CORRELATIONS: Mapping[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "weighted_tau": weighted_tau,
    "kendall_tau": kendall_tau,
    "pearson": pearson,
}


def correlations(actual, predicted) -> dict[str, float]:
    """All three correlation measures between actual performance and predicted transferability."""
    return {name: fn(actual, predicted) for name, fn in CORRELATIONS.items()}


def relative_top1(actual, predicted) -> float:
    """actual[argmax predicted] / max(actual): 1.0 when the metric picks the truly best candidate."""
    a, p = _pair(actual, predicted)
    best = a.max()
    if best <= 0:
        raise ValueError(f"actual: expected a positive best value for a relative accuracy, got {best:g}")
    return float(a[np.argmax(p)] / best)


def regret(actual, predicted) -> float:
    """max(actual) - actual[argmax predicted] (>= 0)."""
    a, p = _pair(actual, predicted)
    return float(a.max() - a[np.argmax(p)])


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation over probe seeds; NaN entries are an error."""
    v = np.asarray(values, np.float64)
    checks.check_rank(v, "values", 1, "[seeds]")
    checks.check_nonempty(v, "values", what="values")
    checks.check_finite(v, "values")
    return float(v.mean()), float(v.std())


def aggregate_over_seeds(per_seed: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[str, dict[str, tuple[float, float]]]:
    """{target: {metric: [value per seed]}} -> {target: {metric: (mean, std)}} plus a "mean" row.

    The "mean" row averages each metric's per-target means over targets (std: over those means).
    """
    table = {t: {m: mean_std(v) for m, v in row.items()} for t, row in per_seed.items()}
    metrics = sorted({m for row in table.values() for m in row})
    table["mean"] = {
        m: mean_std([row[m][0] for row in table.values() if m in row]) for m in metrics
    }
    return table
