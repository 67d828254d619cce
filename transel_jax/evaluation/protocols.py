"""The papers' evaluation protocols: how well each metric's scores predict actual fine-tuned mIoU.

Per target, metric and probe seed, a measure (:data:`MEASURES`) between the actual mIoU of the evaluated
candidates (ensembles, 000 Sec. 4; or single models, as in PARC) and their scores: weighted Kendall tau
as ``scipy.stats.weightedtau(actual, predicted)``, Kendall tau, Pearson, and relative top-1 (actual of
the top-scored candidate / best actual). A correlation with a constant side (e.g. a metric that scores
every candidate alike) is undefined; :func:`measure` records it as 0, "no ranking information", so
that averages stay defined. Seeds aggregate to mean and std, and a ``"mean"`` row averages the
per-target means (:func:`study`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from transel_jax.evaluation.correlation import CORRELATIONS, aggregate_over_seeds, relative_top1

MEASURES = ("weighted_tau", "kendall_tau", "pearson", "relative_top1")


def measure(name: str, truth, scores) -> float:
    """One of :data:`MEASURES` between actual performance ``truth`` [K] and ``scores`` [K].

    >>> measure("relative_top1", [0.5, 0.4], [1.0, 2.0])
    0.8
    >>> measure("kendall_tau", [0.5, 0.4, 0.3], [1.0, 1.0, 1.0])   # constant scores: no ranking information
    0.0
    """
    if name == "relative_top1":
        return relative_top1(truth, scores)
    if name not in CORRELATIONS:
        raise ValueError(f"name: expected one of {MEASURES}, got {name!r}")
    if np.ptp(np.asarray(truth, np.float64)) == 0 or np.ptp(np.asarray(scores, np.float64)) == 0:
        return 0.0  # undefined correlation with a constant side (module docstring)
    return CORRELATIONS[name](truth, scores)


def ensemble_rows(scored, evaluated) -> np.ndarray:
    """int [E'] the row of ``scored`` (int [E, S] member indices) of each row of ``evaluated`` [E', S].

    Member order within a row does not matter.

    >>> ensemble_rows([[0, 1], [0, 2], [1, 2]], [[2, 1], [0, 1]]).tolist()
    [2, 0]
    """
    row = {tuple(sorted(e)): i for i, e in enumerate(np.asarray(scored).tolist())}
    try:
        return np.array([row[tuple(sorted(e))] for e in np.asarray(evaluated).tolist()], np.int64)
    except KeyError as missing:
        raise ValueError(f"evaluated: ensemble {list(missing.args[0])} was not scored") from None


def study(truth: Mapping[str, np.ndarray], scores: Mapping[str, Sequence[Mapping[str, np.ndarray]]],
          metrics: Sequence[str]) -> dict:
    """{measure: {target | "mean": {metric: (mean, std)}}} over probe seeds.

    Args:
      truth: {target: float [K] actual mIoU of the K evaluated candidates}.
      scores: {target: [ {metric: float [K]} per seed ]}.
      metrics: the metric names to evaluate.
    """
    out = {}
    for name in MEASURES:
        per_seed = {t: {m: [measure(name, truth[t], s[m]) for s in scores[t]] for m in metrics} for t in truth}
        out[name] = aggregate_over_seeds(per_seed)
    return out
