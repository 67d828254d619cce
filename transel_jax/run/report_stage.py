"""Stage ``report``: gather the studies' results into plain data and render ``report/report.md`` + figures,
and ``report/summary.json`` (:mod:`transel_jax.report.summary`: the headline numbers the README quotes)."""
from __future__ import annotations

import sys

import numpy as np

from transel_jax.evaluation.protocols import measure
from transel_jax.provenance import code_identity
from transel_jax.report import write_report
from transel_jax.run import evaluate, influence, plan, pool, scoring, selection
from transel_jax.run.stage import Context

TOP_K = 10


def gather(ctx: Context, title: str) -> dict:
    """The ``data`` dict of :mod:`transel_jax.report.markdown` from the finished stages' files."""
    config = ctx.config
    targets = plan.check_targets(config)
    seed = int(config.probe.seeds[0])
    sources = pool.sources(ctx)
    scatter, counts = {}, {}
    for t in targets:
        act, evaluated = evaluate.aligned(ctx, t, seed)
        truth = act["miou"]
        per_metric = {m: evaluated[f"ens_{m}"] for m in scoring.ENSEMBLE}
        scores = scoring.load(ctx, t, seed)  # the whole pool's: which sources win
        scatter[t] = {"actual": truth, "scores": per_metric,
                      "wtau": {m: measure("weighted_tau", truth, s) for m, s in per_metric.items()}}
        top = scores["ensembles"][np.argsort(-scores["ens_soft_iou_eep"], kind="stable")[:TOP_K]]
        counts[t] = np.bincount(top.ravel(), minlength=len(sources)).tolist()
    stages = [{"name": name, "wall_s": m["wall_s"], "line": m.get("line", "")} for name, m in ctx.markers.items()]
    first = next(iter(ctx.markers.values()), {})
    return {
        "title": title, "run_dir": ctx.run_dir, "config": config.to_dict(), "seeds": list(config.probe.seeds),
        "provenance": {**{k: first.get("provenance", {}).get(k) for k in ("versions", "host", "processor", "cpu_count",
                                                                              "jax_backend", "devices")},
                       **code_identity(), "command": " ".join(sys.argv)},
        "stages": stages, "sources": sources,
        "ensemble_metrics": list(scoring.ENSEMBLE), "single_metrics": list(scoring.SINGLE),
        "ensemble_eval": evaluate.load(ctx, "ensemble"), "single_eval": evaluate.load(ctx, "single"),
        "scatter": scatter,
        "winning": {"sources": [s["id"] for s in sources], "top_k": min(TOP_K, len(top)), "counts": counts},
        "selection": selection.load(ctx) if "selection" in ctx.markers else None,
        "baselines": list(selection.baselines(config)),
        "influence": influence.load(ctx) if "influence" in ctx.markers else None,
    }


def statistics(ctx: Context, data: dict) -> dict:
    """Confidence intervals, paired comparisons, sign and permutation tests, verdicts
    (:func:`transel_jax.evaluation.statistics.summarize`), the stability analysis over drawn experimental
    setups (:func:`transel_jax.evaluation.stability.stability`) and our numbers next to the papers'."""
    from transel_jax.evaluation.paper_figures import side_by_side
    from transel_jax.evaluation.stability import stability
    from transel_jax.evaluation.statistics import per_seed_measures, summarize

    inputs = evaluate.per_seed_inputs(ctx)
    correlation = {"ensemble": per_seed_measures(inputs["truth_ens"], inputs["ens"], scoring.ENSEMBLE),
                   "single": per_seed_measures(inputs["truth_single"], inputs["single"], scoring.SINGLE)}
    selection_gains = None
    if data.get("selection"):
        selection_gains = {b: {t: r["gain"][b] for t, r in data["selection"].items()} for b in data["baselines"]}
    inf = data.get("influence")
    influence_in = None
    pairs = 0 if not inf else sum(1 for t, row in zip(inf["targets"], inf["gain"]) for s, g in zip(inf["sources"], row)
                                  if s != t and g is not None and np.isfinite(g))
    if pairs >= 3:  # a rank correlation of fewer pairs says nothing (the tiny test config has 2)
        influence_in = {"gain": inf["gain"], "distance": inf["distance"], "targets": inf["targets"],
                        "sources": inf["sources"]}
    stats = summarize(correlation, selection=selection_gains, influence=influence_in, seed=int(ctx.config.seed))
    stab = stability(inputs["truth_ens"], inputs["ens"], list(scoring.ENSEMBLE), members=inputs["members"],
                     n_setups=1000, seed=int(ctx.config.seed))
    return {"statistics": stats, "stability": stab, "paper": side_by_side(stats)}


def run_report(ctx: Context) -> dict:
    from transel_jax.files import write_json
    from transel_jax.report.summary import summary

    data = gather(ctx, title=f"transel run: {ctx.config.name}")
    data.update(statistics(ctx, data))
    out = write_report(data, ctx.dir("report"))
    write_json(ctx.path("report", "summary.json"), summary(data))
    return {"report": out["report"], "figures": len(out["figures"])}


def line(summary: dict) -> str:
    return f"{summary['report']} with {summary['figures']} figures"
