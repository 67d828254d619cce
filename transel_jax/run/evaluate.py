"""Stage ``evaluate``: how well each metric's scores predict the actual fine-tuned mIoU.

Per target, metric and probe seed, the measures of :func:`transel_jax.evaluation.protocols.study`
(weighted Kendall tau, Kendall tau, Pearson, relative top-1; a constant side counts as 0) between the
scores and

- the actual ensemble mIoU of every evaluated ensemble (the 000 Sec. 4 study: the ensembles of each
  target's kept candidates, :mod:`.candidates`; their scores are those of the whole-pool scoring), and
- the single fine-tuned mIoU of every kept candidate (the PARC-style single-model study),

aggregated over seeds to mean and std, with a ``"mean"`` row over targets. ``evaluate/ensemble.json`` and
``evaluate/single.json`` hold ``{measure: {target | "mean": {metric: [mean, std]}}}``.
"""
from __future__ import annotations


from transel_jax.evaluation.protocols import ensemble_rows, study
from transel_jax.run import actual, plan, scoring
from transel_jax.run.stage import Context, read_json, write_json


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


def per_seed_inputs(ctx: Context) -> dict:
    """What the evaluation statistics read, per target: ``truth_ens`` float [E'] (actual ensemble mIoU),
    ``truth_single`` float [K], ``ens`` / ``single``: [ {metric: scores aligned with them} per probe seed ],
    ``members`` int [E', S] (pool indices of each evaluated ensemble)."""
    out = {"truth_ens": {}, "truth_single": {}, "ens": {}, "single": {}, "members": {}}
    seeds = [int(s) for s in ctx.config.probe.seeds]
    for t in plan.check_targets(ctx.config):
        pairs = [aligned(ctx, t, s) for s in seeds]
        act, runs = pairs[0][0], [scores for _, scores in pairs]
        out["truth_ens"][t], out["truth_single"][t], out["members"][t] = act["miou"], act["single"], act["ensembles"]
        out["ens"][t] = [{m: r[f"ens_{m}"] for m in scoring.ENSEMBLE} for r in runs]
        out["single"][t] = [{m: r[f"single_{m}"] for m in scoring.SINGLE} for r in runs]
    return out


def run_evaluate(ctx: Context) -> dict:
    targets = plan.check_targets(ctx.config)
    seeds = [int(s) for s in ctx.config.probe.seeds]
    inputs = per_seed_inputs(ctx)
    truth_ens, truth_single, ens, single = (inputs[k] for k in ("truth_ens", "truth_single", "ens", "single"))
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
