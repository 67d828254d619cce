"""``transel score``: rank every candidate ensemble from an .npz of per-source predictions.

The .npz holds ``labels`` [n] and either ``eep`` [N, n, C] (EEP predictions already in the target label
space) or ``probs_0`` ... ``probs_{N-1}`` ([n, Z_s] source-label-space softmax, label spaces may differ),
and optionally ``names`` [N] (source names), ``base_terms`` [N] (per-source P*N*C for BASE) and
``num_classes`` (C; default max label + 1). Labels are class indices 0..C-1, or dataset labels 1..C
with 0 = void when ``--dataset-labels`` is given (void pixels are then dropped).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help=".npz with labels and eep or probs_0..probs_{N-1}")
    parser.add_argument("--out", required=True, help="CSV to write (ranked, best first); provenance goes to OUT.meta.json")
    parser.add_argument("--size", type=int, default=3, help="ensemble size S (all C(N, S) ensembles); default 3")
    parser.add_argument("--metrics", default=None,
                        help="comma-separated metrics (default: ms_leep,e_leep,iou_eep,soft_iou_eep, plus base "
                             "when the input has base_terms)")
    parser.add_argument("--rank-by", default="soft_iou_eep", help="metric that orders the table")
    parser.add_argument("--dataset-labels", action="store_true", help="labels are 1..C with 0 = void")
    parser.add_argument("--memory-budget-mb", type=int, default=1024, help="device working memory for chunking")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def load_npz(path: str, dataset_labels: bool):
    """-> (eep [N, n, C] float32, labels [n] 0..C-1, names or None, base_terms or None)."""
    import numpy as np

    from transel_jax.metrics.eep import eep_stack

    with np.load(path, allow_pickle=False) as data:
        if "labels" not in data:
            raise ValueError(f"input: expected an array 'labels' in {path}, got arrays {sorted(data.files)}")
        labels = data["labels"].astype(np.int64)
        keep = slice(None)
        if dataset_labels:
            keep = labels != 0
            labels = labels[keep] - 1
        names = [str(s) for s in data["names"]] if "names" in data else None
        base = data["base_terms"] if "base_terms" in data else None
        if "eep" in data:
            eep = data["eep"][:, keep]
        else:
            keys = sorted((k for k in data.files if k.startswith("probs_")), key=lambda k: int(k.split("_")[1]))
            if not keys:
                raise ValueError(f"input: expected 'eep' or 'probs_0', 'probs_1', ... in {path}, got {sorted(data.files)}")
            num_classes = int(data["num_classes"]) if "num_classes" in data else int(labels.max()) + 1
            eep = np.asarray(eep_stack([data[k][keep] for k in keys], labels, num_classes))
    return eep, labels, names, base


def main(args) -> int:
    from transel_jax.ensembles.scorer import DEFAULT_METRICS, score_ensembles
    from transel_jax.provenance import file_sha256, provenance

    eep, labels, names, base = load_npz(args.input, args.dataset_labels)
    if args.metrics:
        metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    else:
        metrics = DEFAULT_METRICS + (("base",) if base is not None else ())
    if args.rank_by not in metrics:
        raise SystemExit(f"--rank-by: expected one of the scored metrics {list(metrics)}, got {args.rank_by!r}")
    result = score_ensembles(eep, labels, args.size, metrics=metrics, base_terms=base, source_names=names,
                             memory_budget=args.memory_budget_mb << 20, progress=not args.no_progress)
    result.to_csv(args.out, rank_by=args.rank_by, provenance=provenance(
        input=args.input, input_sha256=file_sha256(args.input), size=args.size, metrics=list(metrics),
        sources=int(eep.shape[0]), pixels=int(eep.shape[1]), classes=int(eep.shape[2])))
    best = result.order(args.rank_by)[0]
    print(f"scored {len(result):,} ensembles of {args.size} from {eep.shape[0]} sources on {eep.shape[1]:,} pixels; "
          f"best by {args.rank_by}: {' + '.join(result.members(best))} "
          f"({result.scores[args.rank_by][best]:.4f}); table: {args.out}")
    return 0
