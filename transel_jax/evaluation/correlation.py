"""How well transferability scores predict actual fine-tuned performance.

Rank correlations follow the papers' code: weighted Kendall tau is ``scipy.stats.weightedtau(actual,
predicted)`` with its defaults (hyperbolic weigher, rank=True: the ranking by ``actual`` decides the
weights, so agreement at the top counts most); plain Kendall tau and Pearson are also reported.
Selection quality: relative top-1 accuracy = actual of the best-scored candidate / best actual, and
regret = best actual - actual of the best-scored candidate.

A rank or linear correlation with a constant side (every candidate scored alike, or every actual value
equal) is undefined: by default the correlation functions raise a ValueError saying so, never return a
NaN. ``if_constant=<value>`` returns that value instead (e.g. 0.0, "no ranking information", as the
study's evaluation records it), so callers that want a defined number ask for it explicitly.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import scipy.stats

from transel_jax import checks


def _vector(x, name: str) -> np.ndarray:
    if x is None or isinstance(x, (str, bytes, dict)):
        raise TypeError(f"{name}: expected a 1-d array of numbers [K], got {type(x).__name__}")
    try:
        return np.asarray(x, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a 1-d array of numbers [K], got a {type(x).__name__} that is not "
                        "one (ragged or non-numeric)") from None


def _pair(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    a = _vector(actual, "actual")
    p = _vector(predicted, "predicted")
    checks.check_rank(a, "actual", 1, "[K]")
    checks.check_rank(p, "predicted", 1, "[K]")
    checks.check_dim("predicted", "K (candidates, matching actual)", p.shape[0], a.shape[0])
    if a.shape[0] < 2:
        raise ValueError(f"actual: expected at least 2 candidates to correlate, got {a.shape[0]}")
    checks.check_finite(a, "actual")
    checks.check_finite(p, "predicted")
    return a, p


def _constant_side(a: np.ndarray, p: np.ndarray, if_constant: float | None) -> float | None:
    """None when both sides vary; else ``if_constant`` or ValueError (module docstring)."""
    for arr, name in ((a, "actual"), (p, "predicted")):
        if np.ptp(arr) == 0:
            if if_constant is None:
                raise ValueError(f"{name}: expected at least two distinct values (a correlation with a "
                                 f"constant side is undefined), got all {arr.shape[0]} equal to {arr[0]:g}; "
                                 "pass if_constant=<value> for a defined result")
            return float(if_constant)
    return None


def _check_if_constant(if_constant) -> None:
    if if_constant is not None and (isinstance(if_constant, bool) or not isinstance(if_constant, (int, float))
                                    or not np.isfinite(if_constant)):
        raise TypeError(f"if_constant: expected None or a finite number, got {if_constant!r}")


def weighted_tau(actual, predicted, *, if_constant: float | None = None) -> float:
    """scipy.stats.weightedtau(actual, predicted) with its defaults, as the papers compute it."""
    _check_if_constant(if_constant)
    a, p = _pair(actual, predicted)
    constant = _constant_side(a, p, if_constant)
    return constant if constant is not None else float(scipy.stats.weightedtau(a, p).statistic)


def kendall_tau(actual, predicted, *, if_constant: float | None = None) -> float:
    """scipy.stats.kendalltau (tau-b)."""
    _check_if_constant(if_constant)
    a, p = _pair(actual, predicted)
    constant = _constant_side(a, p, if_constant)
    return constant if constant is not None else float(scipy.stats.kendalltau(a, p).statistic)


def pearson(actual, predicted, *, if_constant: float | None = None) -> float:
    """scipy.stats.pearsonr's correlation coefficient."""
    _check_if_constant(if_constant)
    a, p = _pair(actual, predicted)
    constant = _constant_side(a, p, if_constant)
    return constant if constant is not None else float(scipy.stats.pearsonr(a, p).statistic)


CORRELATIONS: Mapping[str, Callable[..., float]] = {
    "weighted_tau": weighted_tau,
    "kendall_tau": kendall_tau,
    "pearson": pearson,
}


def correlations(actual, predicted, *, if_constant: float | None = None) -> dict[str, float]:
    """All three correlation measures between actual performance and predicted transferability."""
    return {name: fn(actual, predicted, if_constant=if_constant) for name, fn in CORRELATIONS.items()}


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
