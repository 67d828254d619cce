"""``summary.json``: a run's headline numbers, machine-readable, and the README block quoted from it.

The report stage writes ``<run>/report/summary.json`` (:func:`summary`): per ensemble and single-model
metric the mean (and std over targets) of each measure, the selection study's mean relative gains, the
influence study's Kendall taus, the stage wall times, and how it was produced (command, commit, config
name, seed). The README's result numbers are not typed by hand: they are the block between
``<!-- summary:NAME:begin -->`` and ``<!-- summary:NAME:end -->``, printed by

    python -m transel_jax.report.summary runs/demo/report/summary.json                 # the block
    python -m transel_jax.report.summary runs/demo/report/summary.json --check README.md   # exit 1 if stale

so a README whose numbers no longer match the summary of the current code fails the check.
"""
from __future__ import annotations

import argparse
import json
import re
import sys

import numpy as np

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
    inf = data.get("influence")
    if inf:
        out["influence_tau"] = {a: {k: float(v) for k, v in t.items()} for a, t in inf["tau"].items()}
    for key in ("statistics", "stability", "paper"):
        if data.get(key) is not None:
            out[key] = data[key]
    return out


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
        lines[-1:] = ["| " + " | ".join(f"[{ci[m]['ci'][0]:+.2f}, {ci[m]['ci'][1]:+.2f}]" if ci.get(m, {}).get("ci")
                                        else "n/a" for m in metrics) + " |", "",
                      "(second row: 95% bootstrap interval over targets and probe seeds)", ""]
    for v in (s.get("statistics") or {}).get("verdicts", []):
        if v["verdict"] != "not measured":
            lines.append(f"- {v['claim']} ({v['source']}): **{v['verdict']}**")
    if (s.get("statistics") or {}).get("verdicts"):
        lines.append("")
    if "selection_gain_mean" in s:
        g = s["selection_gain_mean"]
        lines += ["Selected ensemble with its head, mean relative mIoU gain: "
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


def check(readme_text: str, s: dict, name: str) -> list[str]:
    """Problems of ``readme_text``'s block ``name`` against summary ``s`` (empty when it matches)."""
    pattern = re.compile(rf"<!-- summary:{re.escape(name)}:begin -->.*?<!-- summary:{re.escape(name)}:end -->", re.S)
    found = pattern.search(readme_text)
    if not found:
        return [f"no <!-- summary:{name}:begin --> ... end block in the README"]
    want = readme_block(s, name)
    if found.group(0) != want:
        return [f"the README's {name} block differs from the summary:\n--- README\n{found.group(0)}\n--- summary\n{want}"]
    return []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m transel_jax.report.summary", description=__doc__.splitlines()[0])
    ap.add_argument("summary", help="a run's report/summary.json")
    ap.add_argument("--name", default=None, help="block name (default: the summary's config name)")
    ap.add_argument("--check", metavar="README", default=None, help="exit 1 unless README's block matches")
    args = ap.parse_args(argv)
    with open(args.summary, encoding="utf-8") as f:
        s = json.load(f)
    name = args.name or s.get("name") or "run"
    if args.check is None:
        print(readme_block(s, name))
        return 0
    with open(args.check, encoding="utf-8") as f:
        problems = check(f.read(), s, name)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
