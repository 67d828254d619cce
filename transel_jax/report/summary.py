"""``summary.json``: a run's headline numbers, machine-readable, and the README block quoted from it.

The report stage writes ``<run>/report/summary.json`` (:func:`summary`): per ensemble and single-model
metric the mean (and std over targets) of each measure, the selection study's mean relative gains, the
influence study's Kendall taus, the stage wall times, and how it was produced (command, commit, config
name, seed). The README's result numbers are not typed by hand: they are the block between
``<!-- summary:NAME:begin -->`` and ``<!-- summary:NAME:end -->``, printed by

    python -m transel_jax.report.summary runs/demo/report/summary.json                 # the block
    python -m transel_jax.report.summary runs/demo/report/summary.json --check README.md   # exit 1 if stale
    python -m transel_jax.report.summary runs/study/report/summary.json --compare runs/study_seed1/report/summary.json

(the last: every paper claim's verdict under both suite seeds, block ``study-seeds``; ``--check`` works there too)

so a README whose numbers no longer match the summary of the current code fails the check.
"""
from __future__ import annotations

import argparse
import json
import re
import sys

import numpy as np

from transel_jax.report import markdown

_METRIC_NAMES = {"ms_leep": "MS-LEEP", "e_leep": "E-LEEP", "iou_eep": "IoU-EEP", "soft_iou_eep": "SoftIoU-EEP",
                 "base": "BASE"}


def _table_means(table: dict) -> dict:
    """{metric: [mean over targets, std over targets]} from a measure's {target | "mean": {metric: [m, s]}}."""
    return {m: [float(v[0]), float(v[1])] for m, v in table["mean"].items()}


def summary(data: dict) -> dict:
    """The JSON-able summary of a report's ``data`` (:mod:`transel_jax.report.markdown`)."""
    out = {"name": data["config"].get("name"), "seed": data["config"].get("seed"),
           "suite_seed": data["config"].get("data", {}).get("suite_seed"),
           "targets": list(data["scatter"]), "probe_seeds": list(data["seeds"]),
           "ensemble": {k: _table_means(v) for k, v in data["ensemble_eval"].items()},
           "single": {k: _table_means(v) for k, v in data["single_eval"].items()},
           "stages_s": {s["name"]: round(float(s["wall_s"]), 1) for s in data["stages"]},
           "provenance": data.get("provenance", {})}
    sel = data.get("selection")
    if sel:
        out["selection_gain_mean"] = {b: float(np.mean([r["gain"][b] for r in sel.values()]))
                                      for b in data["baselines"]}
        out["selection_below_best_member"] = sorted(t for t, r in sel.items() if r["gain"]["best_member"] < 0)
        diag = {t: r["diagnostics"] for t, r in sel.items() if "diagnostics" in r}
        if diag:
            out["selection_diagnostics"] = diag
    inf = data.get("influence")
    if inf:
        out["influence_tau"] = {a: {k: float(v) for k, v in t.items()} for a, t in inf["tau"].items()}
    for key in ("statistics", "stability", "paper"):
        if data.get(key) is not None:
            out[key] = data[key]
    return out


def _ci(c) -> str:
    return f"[{c[0]:+.2f}, {c[1]:+.2f}]" if c else "n/a"


def _statistics_lines(s: dict) -> list[str]:
    """The paired comparisons, selection gains, influence taus and stability of summary ``s`` (markdown)."""
    st = s.get("statistics") or {}
    lines = []
    comp = st.get("comparisons", {}).get("ensemble", {}).get("weighted_tau")
    if comp:
        lines += ["Paired differences of weighted tau (95% bootstrap interval; wins / ties / losses over targets, "
                  "exact sign-test p):", "", "| comparison | mean difference | 95% CI | W / T / L | sign p |",
                  "|---|---|---|---|---|"]
        lines += [f"| {k} | {v['estimate']:+.3f} | {_ci(v.get('ci'))} | {v['wins']} / {v['ties']} / {v['losses']} "
                  f"| {v['sign_test_p']:.3g} |" for k, v in comp.items()]
        lines.append("")
    sel = st.get("selection")
    if sel:
        lines += ["Selected ensemble (with its head, or the plain average where the head lost in cross-validation) "
                  "against each baseline, relative mIoU gain over the targets:", "",
                  "| vs | mean gain | 95% CI | median | W / T / L | sign p |", "|---|---|---|---|---|---|"]
        lines += [f"| {b} | {v['estimate']:+.1f}% | [{v['ci'][0]:+.1f}, {v['ci'][1]:+.1f}] | {v['median']:+.1f}% "
                  f"| {v['wins']} / {v['ties']} / {v['losses']} | {v['sign_test_p']:.3g} |" for b, v in sel.items()]
        lines.append("")
    inf = st.get("influence")
    if inf:
        lines += ["Kendall tau-b of (-domain distance, transfer gain) over (target, source) pairs, per assignment "
                  "(permutation p, gains permuted within targets):", "",
                  "| assignment | tau | 95% CI | p | pairs |", "|---|---|---|---|---|"]
        lines += [f"| {a} | {v['estimate']:+.3f} | {_ci(v.get('ci'))} | {v['p_value']:.3g} | {v['n_pairs']} |"
                  for a, v in inf.items()]
        lines.append("")
    stab = s.get("stability")
    if stab and stab.get("best_fraction"):
        names = [_METRIC_NAMES.get(m, m) for m in stab["metrics"]]
        lines += [f"Stability ({stab['n_setups']} random setups: sub-pools of the candidates, subsets of targets, "
                  "the three measures): share of setups in which each metric is the best, and row beats column:", "",
                  "| | best | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
        for m, name in zip(stab["metrics"], names):
            row = [f"{stab['beats'][m][o]:.2f}" if o in stab["beats"].get(m, {}) else "-" for o in stab["metrics"]]
            lines.append(f"| {name} | {stab['best_fraction'][m]:.2f} | " + " | ".join(row) + " |")
        lines.append("")
    if s.get("selection_diagnostics"):
        lines += markdown.diagnostics_lines({t: {"diagnostics": d} for t, d in s["selection_diagnostics"].items()})
    if s.get("paper"):
        lines += markdown.paper_lines(s["paper"])
    return lines


def readme_block(s: dict, name: str) -> str:
    """The markdown block the README quotes for summary ``s`` (between its ``name`` markers)."""
    wt = s["ensemble"]["weighted_tau"]
    metrics = [m for m in _METRIC_NAMES if m in wt]
    lines = [f"<!-- summary:{name}:begin -->",
             f"Mean weighted tau over the {len(s['targets'])} targets (± std over targets), probe seeds "
             f"{s['probe_seeds']}, suite seed {s['suite_seed']}:", "",
             "| " + " | ".join(_METRIC_NAMES[m] for m in metrics) + " |", "|" + "---|" * len(metrics),
             "| " + " | ".join(f"{wt[m][0]:+.3f} ± {wt[m][1]:.3f}" for m in metrics) + " |", ""]
    ci = (s.get("statistics") or {}).get("correlation", {}).get("ensemble", {}).get("weighted_tau")
    if ci:
        lines[-1:] = ["| " + " | ".join(_ci(ci.get(m, {}).get("ci")) for m in metrics) + " |", "",
                      "(second row: 95% bootstrap interval over targets and probe seeds)", ""]
    for v in (s.get("statistics") or {}).get("verdicts", []):
        if v["verdict"] != "not measured":
            lines.append(f"- {v['claim']} ({v['source']}): **{v['verdict']}**")
    if (s.get("statistics") or {}).get("verdicts"):
        lines.append("")
    lines += _statistics_lines(s)
    if "selection_gain_mean" in s:
        g = s["selection_gain_mean"]
        lines += ["Selected ensemble (head or plain average), mean relative mIoU gain: "
                  + ", ".join(f"vs {b} {v:+.1f}%" for b, v in g.items())
                  + (f"; below its best member on {', '.join(s['selection_below_best_member'])}."
                     if s["selection_below_best_member"] else "; never below its best member."), ""]
    if "influence_tau" in s:
        lines += ["Kendall tau between -domain distance and transfer gain (pooled): "
                  + ", ".join(f"{a} {t['pooled']:+.2f}" for a, t in s["influence_tau"].items()) + ".", ""]
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in s["stages_s"].items())
    commit = (s.get("provenance", {}) or {}).get("git_commit")
    lines += [f"Stage wall times: {stages} (total {sum(s['stages_s'].values()) / 60:.1f} min)"
              + (f"; code at {commit[:7]}." if commit else "."), f"<!-- summary:{name}:end -->"]
    return "\n".join(lines)


def _run_labels(runs: list[dict]) -> list[str]:
    """Column heads: "suite seed S"; where runs share a seed (the same study on other machines or code),
    also the processor and the commit that produced each."""
    labels = [f"suite seed {r.get('suite_seed')}" for r in runs]
    if len(set(labels)) == len(labels):
        return labels
    out = []
    for label, r in zip(labels, runs):
        prov = r.get("provenance") or {}
        commit = (prov.get("git_commit") or "")[:7] or "commit not recorded"
        out.append(f"{label}, {prov.get('processor') or 'processor not recorded'}, {commit}")
    return out


def compare_block(runs: list[dict], name: str) -> str:
    """The verdict of every paper claim in each summary of ``runs`` side by side (e.g. two suite seeds),
    between the ``name`` markers, with a last column saying whether the verdicts agree."""
    verdicts = [{v["id"]: v for v in (r.get("statistics") or {}).get("verdicts", [])} for r in runs]
    ids = [i for i in verdicts[0] if all(i in v for v in verdicts[1:])]
    lines = [f"<!-- summary:{name}:begin -->", "| claim | " + " | ".join(_run_labels(runs)) + " | same verdict |",
             "|---|" + "---|" * (len(runs) + 1)]
    for i in ids:
        cells = [f"{v[i]['verdict']} ({v[i]['estimate']:+.3f}, {_ci(v[i].get('ci'))})" for v in verdicts]
        same = len({v[i]["verdict"] for v in verdicts}) == 1
        lines.append(f"| {verdicts[0][i]['claim']} | " + " | ".join(cells) + f" | {'yes' if same else 'no'} |")
    commits = sorted({(r.get("provenance") or {}).get("git_commit", "")[:7] for r in runs} - {""})
    lines += ["", f"Code at {', '.join(commits)}." if commits else "", f"<!-- summary:{name}:end -->"]
    return "\n".join(lines)


def check(readme_text: str, s: dict, name: str, want: str | None = None) -> list[str]:
    """Problems of ``readme_text``'s block ``name`` against summary ``s`` (or the block ``want``; empty when
    it matches)."""
    pattern = re.compile(rf"<!-- summary:{re.escape(name)}:begin -->.*?<!-- summary:{re.escape(name)}:end -->", re.S)
    found = pattern.search(readme_text)
    if not found:
        return [f"no <!-- summary:{name}:begin --> ... end block in the README"]
    want = readme_block(s, name) if want is None else want
    if found.group(0) != want:
        return [f"the README's {name} block differs from the summary:\n--- README\n{found.group(0)}\n--- summary\n{want}"]
    return []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m transel_jax.report.summary", description=__doc__.splitlines()[0])
    ap.add_argument("summary", help="a run's report/summary.json")
    ap.add_argument("--name", default=None, help="block name (default: the summary's config name)")
    ap.add_argument("--check", metavar="README", default=None, help="exit 1 unless README's block matches")
    ap.add_argument("--compare", metavar="SUMMARY", nargs="+", default=None,
                    help="other runs' summary.json (e.g. another suite seed): the verdicts side by side, block "
                         "NAME-seeds")
    args = ap.parse_args(argv)
    runs = []
    for path in [args.summary] + (args.compare or []):
        with open(path, encoding="utf-8") as f:
            runs.append(json.load(f))
    s = runs[0]
    name = args.name or s.get("name") or "run"
    if args.compare:
        name = args.name or f"{name}-seeds"
        block = compare_block(runs, name)
    else:
        block = readme_block(s, name)
    if args.check is None:
        print(block)
        return 0
    with open(args.check, encoding="utf-8") as f:
        problems = check(f.read(), s, name, want=block)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
