"""What ``transel select`` writes into its output folder.

- ``ranking.csv``: every scored ensemble, best first by ``rank_by``: rank, members (``;``-joined model
  names), member indices, every ensemble metric; ``ranking.csv.meta.json`` says how it was produced;
- ``singles.csv``: every pool model: name, architecture, kind, classes, then every single-model metric;
- ``selection.md``: the top 10 ensembles with members and scores, the top single models, the score
  distribution figure (``score_distribution.png``) with the top ensembles marked, and how it was produced;
- ``selection.json``: provenance (command, versions, devices, time), the pool (names, fingerprints,
  origins), the target (spec, digest-free summary), the sampling, timings.
"""
from __future__ import annotations

import csv
import os

import numpy as np

from transel_jax.files import write_json
from transel_jax.provenance import provenance

TOP = 10


def check_out(out) -> None:
    """ValueError unless ``out`` is a folder that exists or can be made (checked before any work)."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out: expected a folder path, got {type(out).__name__}")
    out = os.fspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"out: expected a folder, got the existing file {out}")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ValueError(f"out: its parent folder {parent} does not exist")
    os.makedirs(out, exist_ok=True)


def _record(sel, command, timings) -> dict:
    p = sel.plan
    return provenance(
        produced_by="transel_jax.select.select",
        argv=list(command) if command else None,
        pool=[m.describe() for m in p.models],
        target={"spec": str(p.target.spec), "kind": p.target.kind, "classes": list(p.target.info.class_names),
                "splits": dict(p.target.info.splits), "train_images": p.train_images},
        sampling={"seed": p.seed, "max_per_image": p.max_per_image, "feature_pixels": p.feature_pixels,
                  "pixels": int(len(sel.probes.sample)), "pca_dims": p.pca_dims},
        size=p.size, ensembles=int(len(sel.scores)), enumerated_total=p.ensembles, searched=sel.searched,
        rank_by=p.rank_by, metrics=list(sel.scores.metrics), probed=sel.probes.probed, timings=timings)


def write_singles(sel, path: str) -> None:
    metrics = list(sel.singles)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "architecture", "kind", "classes", *metrics])
        for i, m in enumerate(sel.plan.models):
            w.writerow([m.name, m.architecture, m.kind, m.num_classes,
                        *("" if np.isnan(sel.singles[k][i]) else repr(float(sel.singles[k][i])) for k in metrics)])


def ensembles_word(count: int) -> str:
    return "ensemble" if count == 1 else "ensembles"


def markdown(sel, record: dict, figure: str | None) -> str:
    p, scores = sel.plan, sel.scores
    metrics = list(scores.metrics)
    lines = [f"# Ensemble selection for {p.target.spec}", ""]
    how = (f"greedy search per ensemble metric found {len(scores)} candidates (C({len(p.models)}, {p.size}) = "
           f"{p.ensembles:,} is over {p.max_enumerated:,})" if sel.searched
           else f"all C({len(p.models)}, {p.size}) = {p.ensembles:,} {ensembles_word(p.ensembles)} scored")
    lines += [f"Pool of {len(p.models)} models, ensembles of {p.size}: {how}. Ranked by `{p.rank_by}` "
              f"(higher is better for every metric). {len(sel.probes.sample):,} class-balanced pixels of "
              f"{p.train_images} training images (seed {p.seed}).", ""]
    shown = min(TOP, len(scores))
    lines += [f"## Top {shown} {ensembles_word(shown)}", "",
              "| rank | members | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for row in sel.top(shown):
        lines.append(f"| {row['rank']} | {', '.join(row['members'])} | "
                     + " | ".join(f"{row[m]:.4f}" for m in metrics) + " |")
    ranks = ("best", "2nd", "3rd")[:len(p.models)]
    lines += ["", "## Top single models", "", "| metric | " + " | ".join(ranks) + " |", "|---|" + "---|" * len(ranks)]
    for metric in sel.singles:
        if np.all(np.isnan(sel.singles[metric])):
            continue
        best = sel.top_singles(len(ranks), metric)
        cells = [f"{n} ({v:.3f})" if np.isfinite(v) else "-" for n, v in best]  # "-": no score (e.g. no features)
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    lines += ["", "B1 (000 Sec. 5) is the top single model by LEEP: "
              f"**{sel.top_singles(1, 'leep')[0][0]}**.", ""]
    if figure:
        lines += [f"![score distribution]({os.path.basename(figure)})", ""]
    versions = record.get("versions", {})
    lines += ["## How this was produced", "",
              f"- command: `{record.get('command')}`",
              f"- transel_jax {versions.get('transel_jax')} (git {record.get('git_commit')}), jax "
              f"{versions.get('jax')}, {record.get('jax_backend')} backend, {record.get('created_utc')}",
              f"- probed now: {', '.join(sel.probes.probed) or 'none (all from the cache)'}",
              "- files: `ranking.csv` (every ensemble), `singles.csv`, `selection.json` (pool fingerprints, "
              "sampling, timings)", ""]
    return "\n".join(lines)


def write(sel, out: str, *, command=None, timings=None) -> None:
    """Write every output file of :mod:`.outputs` for ``sel`` into ``out``."""
    from transel_jax.report import figures

    check_out(out)
    record = _record(sel, command, timings or {})
    sel.scores.to_csv(os.path.join(out, "ranking.csv"), rank_by=sel.rank_by, provenance=record)
    write_singles(sel, os.path.join(out, "singles.csv"))
    order = sel.scores.order(sel.rank_by)
    figure = None
    if len(sel.scores) > 1:
        figure = figures.score_distribution(sel.scores.scores[sel.rank_by], order[:TOP],
                                            os.path.join(out, "score_distribution.png"), sel.rank_by,
                                            f"{len(sel.scores):,} ensembles of {sel.plan.size}; top {TOP} marked")
    with open(os.path.join(out, "selection.md"), "w", encoding="utf-8") as f:
        f.write(markdown(sel, record, figure))
    write_json(os.path.join(out, "selection.json"), record)
