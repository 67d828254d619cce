"""Markdown tables in the papers' shapes (targets as rows, metrics as columns, a mean row)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def markdown_table(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub-flavoured markdown table; every row must have ``len(header)`` cells."""
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"rows[{i}]: expected {len(header)} cells (one per header column), got {len(row)}")
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def mean_std(value: Sequence[float], digits: int = 3) -> str:
    mean, std = value
    return f"{mean:+.{digits}f} ± {std:.{digits}f}"


def measure_table(block: Mapping[str, Mapping[str, Sequence[float]]], metrics: Sequence[str],
                  digits: int = 3) -> str:
    """Rows: targets then "mean"; cells ``mean ± std`` over probe seeds of one measure (e.g. weighted tau).

    ``block`` is ``{target | "mean": {metric: (mean, std)}}`` (:func:`transel_jax.evaluation.aggregate_over_seeds`).
    """
    targets = [t for t in block if t != "mean"] + ["mean"]
    rows = [[f"**{t}**" if t == "mean" else t, *(mean_std(block[t][m], digits) for m in metrics)] for t in targets]
    return markdown_table(["target", *metrics], rows)


def sources_table(sources: Sequence[Mapping]) -> str:
    header = ["#", "source model", "domain", "architecture", "init", "depth", "params", "images", "classes",
              "test mIoU"]
    rows = [[i, s["id"], s["domain"], s["architecture"], s["init"], s["depth"], f"{s['params']:,}",
             s["num_images"], s["num_classes"], f"{s['test_miou']:.3f}"] for i, s in enumerate(sources)]
    return markdown_table(header, rows)


def selection_table(selection: Mapping[str, Mapping], baselines: Sequence[str]) -> str:
    """Per target: the selected members, mIoU of the selected ensemble and the baselines, gains in %."""
    header = ["target", "selected ensemble", "mIoU selected", *(f"mIoU {b}" for b in baselines),
              *(f"gain vs {b}" for b in baselines)]
    rows = []
    for target, r in selection.items():
        rows.append([target, " + ".join(r["members"]), f"{r['miou']['selected']:.3f}",
                     *(f"{r['miou'][b]:.3f}" for b in baselines), *(f"{r['gain'][b]:+.1f}%" for b in baselines)])
    mean = lambda key, b: sum(r[key][b] for r in selection.values()) / len(selection)  # noqa: E731
    rows.append(["**mean**", "", f"{mean('miou', 'selected'):.3f}", *(f"{mean('miou', b):.3f}" for b in baselines),
                 *(f"{mean('gain', b):+.1f}%" for b in baselines)])
    return markdown_table(header, rows)


def matrix_table(matrix: Sequence[Sequence[float]], rows: Sequence[str], cols: Sequence[str], fmt: str) -> str:
    """A targets x sources matrix as a table, cells formatted with ``fmt`` (e.g. ``"{:+.1f}"``); a missing
    (non-finite) cell, e.g. a target's own dataset left out as a source, is written as "-"."""
    def cell(v):
        return fmt.format(v) if v is not None and np.isfinite(v) else "-"

    return markdown_table(["target \\ source", *cols], [[r, *(cell(v) for v in row)] for r, row in zip(rows, matrix)])
