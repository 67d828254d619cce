"""Stage ``evaluate``: how well each metric's scores predict the actual fine-tuned mIoU.

Per target, metric and probe seed, the correlations of :mod:`transel_jax.evaluation` (weighted Kendall
tau as ``scipy.stats.weightedtau(actual, predicted)``, Kendall tau, Pearson) between the scores and

- the actual ensemble mIoU of every evaluated ensemble (the 000 Sec. 4 study: the ensembles of each
  target's kept candidates, :mod:`.candidates`; their scores are those of the whole-pool scoring), and
- the single fine-tuned mIoU of every kept candidate (the PARC-style single-model study),

plus relative top-1 (actual of the top-scored candidate / best actual). A correlation with a constant
side (e.g. a metric that scores every candidate alike) is undefined; it is recorded as 0, "no ranking
information", so that averages stay defined. Seeds are aggregated to mean and
std, and a ``"mean"`` row averages the per-target means. ``evaluate/ensemble.json`` and
``evaluate/single.json`` hold ``{measure: {target | "mean": {metric: [mean, std]}}}``.
"""
from __future__ import annotations

import numpy as np

from transel_jax import evaluation
from transel_jax.run import actual, plan, scoring
from transel_jax.run.stage import Context, read_json, write_json

MEASURES = ("weighted_tau", "kendall_tau", "pearson", "relative_top1")


def measure(name: str, truth, scores) -> float:
    """One of MEASURES between actual performance ``truth`` [K] and ``scores`` [K]."""
    if name == "relative_top1":
        return evaluation.relative_top1(truth, scores)
    if np.ptp(np.asarray(truth, np.float64)) == 0 or np.ptp(np.asarray(scores, np.float64)) == 0:
        return 0.0  # undefined correlation with a constant side (module docstring)
    return evaluation.CORRELATIONS[name](truth, scores)


def ensemble_rows(scored: np.ndarray, evaluated: np.ndarray) -> np.ndarray:
    """int [E'] the row of ``scored`` (int [E, S] member indices) of each row of ``evaluated`` [E', S]."""
    row = {tuple(sorted(e)): i for i, e in enumerate(np.asarray(scored).tolist())}
    try:
        return np.array([row[tuple(sorted(e))] for e in np.asarray(evaluated).tolist()], np.int64)
    except KeyError as missing:
        raise ValueError(f"evaluated: ensemble {list(missing.args[0])} was not scored") from None


def aligned(ctx: Context, target: str, seed: int) -> tuple[dict, dict]:
    """(actual, scores) of ``target`` restricted to what was evaluated.

    actual: the ``actual`` stage's arrays; scores: the probe seed's scoring arrays with every ``ens_*`` taken
    at the evaluated ensembles (aligned with ``actual["miou"]``) and every ``single_*`` at the kept
    candidates (aligned with ``actual["single"]``).
    """
    act = actual.load(ctx, target)
    raw = scoring.load(ctx, target, seed)
    rows = ensemble_rows(raw["ensembles"], act["ensembles"])
    scores = {k: (v[rows] if k.startswith("ens_") else v[act["candidates"]] if k.startswith("single_") else v)
              for k, v in raw.items()}
    return act, scores


def study(truth: dict, scores: dict, metrics) -> dict:
    """{measure: {target | "mean": {metric: (mean, std)}}}.

    Args:
      truth: {target: float [K] actual mIoU of the K candidates}.
      scores: {target: [ {metric: float [K]} per seed ]}.
    """
    out = {}
    for name in MEASURES:
        per_seed = {t: {m: [measure(name, truth[t], s[m]) for s in scores[t]] for m in metrics} for t in truth}
        out[name] = evaluation.aggregate_over_seeds(per_seed)
    return out


def run_evaluate(ctx: Context) -> dict:
    targets = plan.check_targets(ctx.config)
    seeds = [int(s) for s in ctx.config.probe.seeds]
    truth_ens, truth_single, ens, single = {}, {}, {}, {}
    for t in targets:
        pairs = [aligned(ctx, t, s) for s in seeds]
        act, runs = pairs[0][0], [scores for _, scores in pairs]
        truth_ens[t], truth_single[t] = act["miou"], act["single"]
        ens[t] = [{m: r[f"ens_{m}"] for m in scoring.ENSEMBLE} for r in runs]
        single[t] = [{m: r[f"single_{m}"] for m in scoring.SINGLE} for r in runs]
    ens_table = study(truth_ens, ens, scoring.ENSEMBLE)
    single_table = study(truth_single, single, scoring.SINGLE)
    write_json(ctx.path("evaluate", "ensemble.json"), ens_table)
    write_json(ctx.path("evaluate", "single.json"), single_table)
    mean = ens_table["weighted_tau"]["mean"]
    best_ensemble_metric = max(("ms_leep", "e_leep", "iou_eep", "soft_iou_eep"), key=lambda m: mean[m][0])
    return {"targets": len(targets), "seeds": len(seeds),
            "soft_iou_eep_wtau": mean["soft_iou_eep"][0], "base_wtau": mean["base"][0],
            "best_ensemble_metric": best_ensemble_metric, "best_wtau": mean[best_ensemble_metric][0]}


def line(summary: dict) -> str:
    return (f"mean weighted tau: SoftIoU-EEP {summary['soft_iou_eep_wtau']:+.3f}, BASE {summary['base_wtau']:+.3f}"
            f" (best: {summary['best_ensemble_metric']} {summary['best_wtau']:+.3f})")


def load(ctx: Context, which: str) -> dict:
    return read_json(ctx.path("evaluate", f"{which}.json"))
