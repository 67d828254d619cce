"""``report.md``: the studies' tables, the verdicts, the figures, and how the run was produced.

``data`` (gathered by the run's report stage) holds:

- ``title``, ``run_dir``, ``config`` (dict), ``seeds`` (probe seeds), ``provenance`` (versions, host),
  ``stages``: [{"name", "wall_s", "line"}];
- ``sources``: the pool records; ``ensemble_metrics``, ``single_metrics``: metric names;
- ``ensemble_eval``, ``single_eval``: {measure: {target | "mean": {metric: (mean, std)}}};
- ``scatter``: {target: {"actual": [E], "scores": {metric: [E]}, "wtau": {metric: float}}} (first seed);
- ``winning``: {"sources": [N ids], "top_k": k, "counts": {target: [N]}}: how often each source is a
  member of the k best ensembles by SoftIoU-EEP;
- ``selection``: {target: {"members", "b1", "miou", "gain"}} and ``baselines``, or None;
- ``influence``: the influence stage's results, or None.
"""
from __future__ import annotations

import json
import os

import numpy as np

from transel_jax.report import figures, tables

_ENSEMBLE_ONLY = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep")


def verdicts(data: dict) -> list[str]:
    """The checks the report states plainly: metrics vs BASE, selection vs B1 (and B1L, best member)."""
    out = []
    mean = data["ensemble_eval"]["weighted_tau"]["mean"]
    base = mean["base"][0]
    beat = [m for m in _ENSEMBLE_ONLY if m in mean and mean[m][0] > base]
    lost = [m for m in _ENSEMBLE_ONLY if m in mean and mean[m][0] <= base]
    if lost:
        out.append(f"Ensemble metrics vs BASE (mean weighted tau {base:+.3f}): **did not all beat BASE**: "
                   f"{', '.join(f'{m} {mean[m][0]:+.3f}' for m in lost)} did not"
                   + (f"; {', '.join(beat)} did." if beat else "."))
    else:
        out.append(f"Ensemble metrics vs BASE: every ensemble metric beats BASE in mean weighted tau "
                   f"({', '.join(f'{m} {mean[m][0]:+.3f}' for m in _ENSEMBLE_ONLY if m in mean)} vs BASE {base:+.3f}).")
    if data.get("selection"):
        gain = float(np.mean([r["gain"]["b1"] for r in data["selection"].values()]))
        word = "beats" if gain > 0 else "**does not beat**"
        out.append(f"Selected ensemble (with ensemble head) {word} B1 on average: mean relative mIoU gain "
                   f"{gain:+.2f}%.")
        out += _selection_details(data["selection"], data.get("baselines", ()))
    return out


def _selection_details(selection: dict, baselines) -> list[str]:
    """B1L against the ensemble and against B1, and the targets where the ensemble is below a member."""
    out = []
    if "b1l" in baselines:
        gain = float(np.mean([r["gain"]["b1l"] for r in selection.values()]))
        b1 = float(np.mean([r["miou"]["b1"] for r in selection.values()]))
        b1l = float(np.mean([r["miou"]["b1l"] for r in selection.values()]))
        out.append(f"Against B1L (one model as large as the ensemble): mean relative gain {gain:+.2f}%; B1L's "
                   f"mean mIoU {b1l:.3f} is {'above' if b1l > b1 else '**below**'} B1's {b1:.3f}.")
    below = [t for t, r in selection.items() if r["gain"]["best_member"] < 0]
    if below:
        gaps = ", ".join(f"{t} {selection[t]['gain']['best_member']:+.1f}%" for t in below)
        out.append(f"The selected ensemble is **below its own best member** on {gaps}.")
    return out


def diagnostics_lines(selection: dict) -> list[str]:
    """Why each selected ensemble wins or loses against its best member (members' test-set disagreement,
    the head's gain over the plain average, the best member's margin over the others)."""
    rows = [[t, f"{d['gain_over_best_member']:+.1f}%", f"{d['disagreement']:.3f}", f"{d['head_gain_over_average']:+.1f}%",
             d.get("head_kept", "head"), f"{d['best_member_margin']:+.3f}"]
            for t, d in ((t, r["diagnostics"]) for t, r in selection.items() if "diagnostics" in r)]
    if not rows:
        return []
    return ["Why the ensemble wins or loses against its best member: a low disagreement means near-identical "
            "members (little to gain from averaging), a large best-member margin means weak other members, a "
            "negative head gain means the trained head predicts worse than the plain average on the test set; "
            "\"kept\" says which of the two the selection used (the head only where it beat the average in "
            "cross-validation on the training images, `selection.head_folds`):", "",
            tables.markdown_table(["target", "vs best member", "member disagreement", "trained head vs plain average",
                                   "kept", "best member margin (mIoU)"], rows), ""]


def _ci(entry) -> str:
    if not entry or entry.get("estimate") is None:
        return "n/a"
    lo, hi = entry["ci"] if entry.get("ci") else (None, None)
    return f"{entry['estimate']:+.3f} [{lo:+.3f}, {hi:+.3f}]" if lo is not None else f"{entry['estimate']:+.3f}"


def statistics_section(data: dict, figure_paths: dict) -> list[str]:
    """Confidence intervals, paired comparisons, tests, verdicts, stability and the papers' figures."""
    stats = data.get("statistics")
    if not stats:
        return []
    level = int(round(100 * stats["settings"]["level"]))
    md = ["## Statistics", "", f"{level}% intervals: {stats['settings']['ci']}. Sign test: "
          f"{stats['settings']['sign_test']}. Influence p-values: {stats['settings']['influence_p']}.", ""]
    corr = stats.get("correlation", {})
    for study, label in (("ensemble", "ensembles"), ("single", "single models")):
        block = corr.get(study)
        if not block:
            continue
        metrics = list(block["weighted_tau"])
        md += [f"Mean correlation with actual mIoU ({label}), estimate [{level}% CI]:", "",
               tables.markdown_table(["metric", *block], [[m, *(_ci(block[k].get(m)) for k in block)]
                                                          for m in metrics]), ""]
    comp = stats.get("comparisons", {}).get("ensemble", {}).get("weighted_tau")
    if comp:
        md += ["Paired differences of mean weighted tau (ensembles):", "",
               tables.markdown_table(["difference", "estimate [CI]", "targets won / tied / lost", "sign test p"],
                                     [[k, _ci(v), f"{v['wins']} / {v['ties']} / {v['losses']}",
                                       f"{v['sign_test_p']:.3f}" if v.get("sign_test_p") is not None else "n/a"]
                                      for k, v in comp.items()]), ""]
    if stats.get("selection"):
        md += ["Selection gains of the selected ensemble (relative mIoU, %):", "",
               tables.markdown_table(["vs", "mean [CI]", "won / tied / lost", "sign test p"],
                                     [[b, _ci(v), f"{v['wins']} / {v['ties']} / {v['losses']}",
                                       f"{v['sign_test_p']:.3f}" if v.get("sign_test_p") is not None else "n/a"]
                                      for b, v in stats["selection"].items()]), ""]
    if stats.get("influence"):
        md += ["Kendall tau between -domain distance and transfer gain:", "",
               tables.markdown_table(["assignment", "tau [CI]", "permutation p", "pairs"],
                                     [[a, _ci(v), f"{v['p_value']:.4f}", v["n_pairs"]]
                                      for a, v in stats["influence"].items()]), ""]
    md += ["Verdicts on the papers' claims (holds: the CI excludes 0 in the paper's direction; contradicted: "
           "it excludes 0 the other way; else undecided):", "",
           tables.markdown_table(["claim", "source", "estimate [CI]", "verdict"],
                                 [[v["claim"], v["source"], _ci(v), f"**{v['verdict']}**"]
                                  for v in stats.get("verdicts", [])]), ""]
    stab = data.get("stability")
    if stab:
        best = ", ".join(f"{m} {f:.2f}" for m, f in sorted(stab["best_fraction"].items(), key=lambda x: -x[1]))
        md += [f"Stability (Agostinelli et al., ECCV 2022): {stab['n_setups']} experimental setups drawn from "
               f"the computed results (sub-pools of the candidates, subsets of targets, one of "
               f"{', '.join(stab['measures'])}); fraction of setups in which each metric is the best: {best}.", ""]
        if "stability" in figure_paths:
            md += [f"![stability]({figure_paths['stability']})", ""]
    if data.get("paper"):
        md += paper_lines(data["paper"])
    return md


def paper_lines(rows: list[dict]) -> list[str]:
    """The side-by-side table of :func:`transel_jax.evaluation.paper_figures.side_by_side`'s rows."""
    return ["Ours next to the papers' (a synthetic world against real data: the comparison is of direction "
            "and rough size, not of values):", "",
            tables.markdown_table(["quantity", "paper", "paper's value", "ours [CI]"],
                                  [[r["id"], r["source"], f"{r['paper_value']:g}",
                                    "not measured" if r["ours"] is None else _ci({"estimate": r["ours"], "ci": r["ci"]})]
                                   for r in rows]), ""]


def make_figures(data: dict, out_dir: str) -> dict[str, str]:
    """All PNGs into ``out_dir/figures``; returns {figure name: relative path}."""
    fig_dir = os.path.join(out_dir, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    paths = {}

    def add(name, fn, *args, **kwargs):
        fn(*args, path=os.path.join(fig_dir, f"{name}.png"), **kwargs)
        paths[name] = os.path.join("figures", f"{name}.png")

    for target, s in data["scatter"].items():
        add(f"scatter_{target}", figures.scatter, s["actual"], s["scores"], s["wtau"],
            title=f"{target}: predicted transferability vs actual ensemble mIoU")
    add("weighted_tau_ensembles", figures.grouped_bars, data["ensemble_eval"]["weighted_tau"],
        data["ensemble_metrics"], title="weighted tau per target (ensembles)", ylabel="weighted tau")
    single = [m for m in data["single_metrics"] if not m.endswith("+depth")]
    add("weighted_tau_single", figures.grouped_bars, data["single_eval"]["weighted_tau"], single,
        title="weighted tau per target (single models)", ylabel="weighted tau")
    win = data["winning"]
    add("winning_sources", figures.heatmap, [win["counts"][t] for t in win["counts"]], list(win["counts"]),
        win["sources"], title=f"membership in the top {win['top_k']} SoftIoU-EEP ensembles", fmt="{:.0f}")
    if data.get("selection"):
        add("selection_gains", figures.selection_gains, {t: r["gain"] for t, r in data["selection"].items()},
            data["baselines"])
    stab = data.get("stability")
    if stab:
        add("stability", figures.stability_heatmap, stab["win_fraction"], stab["metrics"],
            best_fraction=stab["best_fraction"])
    inf = data.get("influence")
    if inf:
        add("transfer_gain", figures.heatmap, inf["gain"], inf["targets"], inf["sources"],
            title="relative transfer gain r(T|S) %", fmt="{:+.0f}", cmap="RdBu")
        add("domain_distance", figures.heatmap, inf["distance"]["target_to_source"], inf["targets"],
            inf["sources"], title="domain distance D(T|S), target->source", fmt="{:.2f}")
    return paths


def _evaluated(config: dict) -> str:
    probe = config.get("probe", {})
    if not probe.get("candidates"):
        return "every ensemble of the whole pool"
    return (f"every ensemble of {probe['candidates']} candidates kept per target: the {probe['good_candidates']} "
            f"most frequent in the metrics' top-{probe['top_ensembles']} ensembles, the rest at random")


def render(data: dict, figure_paths: dict[str, str]) -> str:
    """The markdown text of the report."""
    ens, single = data["ensemble_metrics"], data["single_metrics"]
    md = [f"# {data['title']}", "", "## Verdict", "", *[f"- {v}" for v in verdicts(data)], ""]
    md += ["## Ensemble transferability (000 Sec. 4)", "",
           f"Weighted Kendall tau between each metric's scores and the actual mIoU of the "
           f"{len(next(iter(data['scatter'].values()))['actual'])} evaluated ensembles per target "
           f"({_evaluated(data['config'])}), mean ± std over probe seeds {list(data['seeds'])}:", "", tables.measure_table(data["ensemble_eval"]["weighted_tau"], ens), ""]
    for measure in ("kendall_tau", "pearson", "relative_top1"):
        md += [f"{measure}:", "", tables.measure_table(data["ensemble_eval"][measure], ens), ""]
    md += [f"![weighted tau]({figure_paths['weighted_tau_ensembles']})", ""]
    md += [f"![{t}]({figure_paths[f'scatter_{t}']})" for t in data["scatter"]] + [""]
    md += ["## Single-model transferability (PARC-style study)", "",
           "Weighted tau against each candidate's own fine-tuned test mIoU:", "",
           tables.measure_table(data["single_eval"]["weighted_tau"], single), "",
           "relative_top1:", "", tables.measure_table(data["single_eval"]["relative_top1"], single), "",
           f"![single]({figure_paths['weighted_tau_single']})", ""]
    if data.get("selection"):
        md += ["## Selection (000 Sec. 5)", "",
               "Top SoftIoU-EEP ensemble with a trained ensemble head vs B1 (top single model by LEEP, "
               "fine-tuned), the plain average of the same members, the best / worst member"
               + (", and B1L (B1's dataset and init with a larger architecture)." if "b1l" in data["baselines"]
                  else "; no B1L (capacity-matched larger single model) in this config."), "",
               tables.selection_table(data["selection"], data["baselines"]), "",
               f"![gains]({figure_paths['selection_gains']})", "", *diagnostics_lines(data["selection"])]
    md += [f"Sources used by the winning ensembles: ![winning]({figure_paths['winning_sources']})", ""]
    inf = data.get("influence")
    if inf:
        md += ["## Factors of influence (002)", "",
               f"Relative transfer gain r(T|S) in % ({inf['architecture']}, init {inf['init']}) against "
               "fine-tuning the generic model:", "",
               tables.matrix_table(inf["gain"], inf["targets"], inf["sources"], "{:+.1f}"), "",
               "Domain distance D(T|S) (target->source assignment, Eq. 1):", "",
               tables.matrix_table(inf["distance"]["target_to_source"], inf["targets"], inf["sources"], "{:.3f}"),
               "", "Kendall tau between -D and the gains, per assignment (Tab. 10):", "",
               tables.markdown_table(["assignment", "pooled over (T, S)", "mean over targets"],
                                     [[a, f"{t['pooled']:+.3f}", f"{t['per_target_mean']:+.3f}"]
                                      for a, t in inf["tau"].items()]), "",
               f"![gain]({figure_paths['transfer_gain']}) ![distance]({figure_paths['domain_distance']})", ""]
    md += statistics_section(data, figure_paths)
    md += ["## Source pool", "", tables.sources_table(data["sources"]), ""]
    md += ["## How this was produced", "",
           tables.markdown_table(["stage", "wall time (s)", "summary"],
                                 [[s["name"], f"{s['wall_s']:.1f}", s["line"]] for s in data["stages"]]), "",
           f"Total stage wall time: {sum(s['wall_s'] for s in data['stages']):.1f} s. Probe seeds: "
           f"{list(data['seeds'])}. Run directory: `{data['run_dir']}`.", "",
           "Versions and host:", "", "```json", json.dumps(data["provenance"], indent=1), "```", "",
           "Config:", "", "```json", json.dumps(data["config"], indent=1, sort_keys=True), "```", ""]
    return "\n".join(md)


def write_report(data: dict, out_dir: str) -> dict:
    """Write ``out_dir/report.md`` and ``out_dir/figures/*.png``; returns {"report": path, "figures": [...]}."""
    os.makedirs(out_dir, exist_ok=True)
    paths = make_figures(data, out_dir)
    report = os.path.join(out_dir, "report.md")
    with open(report, "w", encoding="utf-8") as f:
        f.write(render(data, paths))
    return {"report": report, "figures": [os.path.join(out_dir, p) for p in paths.values()]}
