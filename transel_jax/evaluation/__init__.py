"""Evaluation statistics: rank correlations, selection quality, aggregation over probe seeds."""
from transel_jax.evaluation.correlation import (
    CORRELATIONS,
    aggregate_over_seeds,
    correlations,
    kendall_tau,
    mean_std,
    pearson,
    regret,
    relative_top1,
    weighted_tau,
)

__all__ = [
    "CORRELATIONS", "aggregate_over_seeds", "correlations", "kendall_tau", "mean_std", "pearson",
    "regret", "relative_top1", "weighted_tau",
]
