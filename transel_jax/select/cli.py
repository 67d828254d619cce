"""``transel select``: the best ensemble of your own pool for your own target.

    transel select --pool POOL --target DIR_OR_NAME --out OUT [--size 3] [--rank-by soft_iou_eep]
                   [--finetune-top K] [--dry-run] [--seed 0] [--max-per-image 1000] [--labels ignore255]

POOL is a directory of ``transel train`` work directories (``transel run``'s ``<run>/pool`` as it is) or a
JSON pool file (:mod:`transel_jax.select.pool`); the target a folder dataset
(:mod:`transel_jax.data.folder`) or a catalog name. ``--dry-run`` lists the pool, the target, the number of
ensembles (enumerated or searched) and an estimate, and runs nothing. Every input is checked before any
model runs. On CPU the command exposes one XLA device per core unless XLA_FLAGS sets a device count.
"""
from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool", required=True, help="pool directory or JSON pool file")
    parser.add_argument("--target", required=True, help="target folder (images/, labels/, classes.txt) or catalog name")
    parser.add_argument("--out", required=True, help="output folder (ranking.csv, singles.csv, selection.md, cache/)")
    parser.add_argument("--size", type=int, default=3, help="members per ensemble S (default 3)")
    parser.add_argument("--rank-by", default="soft_iou_eep", help="metric that orders ranking.csv")
    parser.add_argument("--finetune-top", type=int, default=0, metavar="K",
                        help="fine-tune the members of the top K ensembles and B1, train heads, export the best")
    parser.add_argument("--finetune-steps", type=int, default=200, help="steps of each fine-tune")
    parser.add_argument("--head-steps", type=int, default=300, help="steps of each ensemble head")
    parser.add_argument("--head-folds", type=int, default=5,
                        help="keep a head only if it beats the plain average in this many folds of cross-validation "
                             "on the training images (0: always keep it; default 5)")
    parser.add_argument("--seed", type=int, default=0, help="pixel-sampling seed")
    parser.add_argument("--max-per-image", type=int, default=1000, help="sampled pixels per training image")
    parser.add_argument("--feature-pixels", type=int, default=2000, help="pixels the feature metrics see")
    parser.add_argument("--batch-size", type=int, default=8, help="images per forward pass")
    parser.add_argument("--max-enumerated", type=int, default=200_000,
                        help="above this many ensembles, search greedily instead of enumerating")
    parser.add_argument("--labels", choices=("void0", "ignore255"), default=None,
                        help="label convention of a folder target (default: its dataset.json, else void0)")
    parser.add_argument("--resolution", type=int, default=None, help="image size of a synthetic catalog target")
    parser.add_argument("--dry-run", action="store_true", help="list what would run; run nothing")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def main(args: argparse.Namespace) -> int:
    from transel_jax.ensembles.cli import use_every_core

    use_every_core()
    from transel_jax.select import flow

    kwargs = dict(size=args.size, rank_by=args.rank_by, seed=args.seed, max_per_image=args.max_per_image,
                  feature_pixels=args.feature_pixels, batch_size=args.batch_size,
                  max_enumerated=args.max_enumerated, labels=args.labels, resolution=args.resolution)
    if args.finetune_top < 0:
        raise ValueError(f"--finetune-top: expected 0 or a positive count, got {args.finetune_top}")
    if args.dry_run:
        import os

        p = flow.plan(args.pool, args.target, cache_dir=os.path.join(args.out, "cache"), **kwargs)
        flow.count_cached(p)
        print(f"dry run: nothing is probed, scored or written")
        for line in p.lines():
            print(line)
        if args.finetune_top:
            print(f"then: fine-tune the members of the top {args.finetune_top} ensembles and B1 "
                  f"({args.finetune_steps} steps each), train their heads, export the best to {args.out}/ensemble")
        return 0
    sel = flow.select(args.pool, args.target, out=args.out, progress=not args.no_progress, command=sys.argv,
                      print_fn=print, **kwargs)
    for row in sel.top(min(5, len(sel.scores))):
        print(f"  {row['rank']:>3}  {', '.join(row['members'])}  {sel.rank_by} {row[sel.rank_by]:.4f}")
    if args.finetune_top:
        rep = sel.finetune(args.finetune_top, steps=args.finetune_steps, head_steps=args.head_steps,
                           head_folds=args.head_folds, batch_size=args.batch_size, progress=not args.no_progress)
        for row in rep.ensembles:
            miou = "n/a (no val/test split)" if row["head_miou"] is None else f"{row['head_miou']:.4f}"
            kept = "trained head" if row["head_kept"] == "head" else "plain average (cross-validation)"
            print(f"  fine-tuned rank {row['rank']} ({', '.join(row['members'])}): {kept}, mIoU {miou}")
        if rep.b1["miou"] is not None:
            print(f"  B1 {rep.b1['name']}: mIoU {rep.b1['miou']:.4f} ({rep.eval_split})")
        print(f"exported {rep.exported} (transel_jax.load_ensemble)")
    return 0
