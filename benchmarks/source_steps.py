"""Has a source model's in-domain test mIoU levelled off at the pool's step count? One source, several budgets.

    python benchmarks/source_steps.py                                   # syn_drive_day, both tiny architectures
    python benchmarks/source_steps.py --config configs/study.py --dataset syn_aerial_urban --steps 50,150,450
    python benchmarks/source_steps.py --steps 300,600 --lr 0.05,0.1,0.2 --schedule poly   # recipe comparison
    python benchmarks/source_steps.py --steps 300,600,1200 --batch 32 --lr 0.1              # a larger batch

Each budget is a separate training run with the pool's own recipe (`transel_jax.run.pool.training_config`:
batch, learning rate, schedule scaled to the budget, warmup, seed; scratch init), evaluated on the
dataset's test split as the pool stage evaluates it (first `data.test_images` images). Prints a table of
test mIoU per step budget and architecture; the runs go to a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/study.py")
    ap.add_argument("--dataset", default="syn_drive_day")
    ap.add_argument("--architectures", default="hrnetv2_tiny,resnet_tiny")
    ap.add_argument("--steps", default="50,100,150,300,600")
    ap.add_argument("--lr", default="", help="comma-separated base learning rates to compare (default: the config's)")
    ap.add_argument("--schedule", default="", help='"step" or "poly" (default: the config\'s)')
    ap.add_argument("--batch", type=int, default=0, help="global batch in images (default: the config's)")
    args = ap.parse_args()

    from transel_jax.config import load_config
    from transel_jax.run import datasets, plan
    from transel_jax.run.pool import training_config
    from transel_jax.train import run

    config = load_config(args.config)
    if args.schedule:
        config.pool.schedule = args.schedule
    if args.batch:
        config.pool.batch_size = args.batch
    lrs = [float(v) for v in args.lr.split(",")] if args.lr else [config.pool.base_lr]
    budgets = [int(s) for s in args.steps.split(",")]
    archs = args.architectures.split(",")
    info = datasets.info(config, args.dataset)
    test = datasets.split(config, args.dataset, config.data.test_split, config.data.test_images)
    cols = [(a, lr) for a in archs for lr in lrs]
    rows = {}
    with tempfile.TemporaryDirectory() as root:
        for arch, lr in cols:
            for steps in budgets:
                config.pool.update(steps=steps, base_lr=lr)
                c = training_config(config, plan.SourceSpec(args.dataset, arch, "scratch"))
                t0 = time.perf_counter()
                result = run.run(c, os.path.join(root, f"{arch}_{lr}_{steps}"),
                                 source=datasets.split(config, args.dataset, "train"), eval_source=test, info=info)
                rows[arch, lr, steps] = result.eval.miou
                print(f"{arch} lr {lr} {steps} steps: test mIoU {result.eval.miou:.3f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"\n{args.dataset} ({args.config} recipe: batch {config.pool.batch_size}, {config.pool.schedule} schedule, "
          f"warmup {config.pool.warmup_steps}), test mIoU on {len(test)} test images, scratch init")
    names = [f"{a}" if len(lrs) == 1 else f"{a} lr {lr}" for a, lr in cols]
    print("| steps | " + " | ".join(names) + " |\n|---|" + "---|" * len(cols))
    for steps in budgets:
        print(f"| {steps} | " + " | ".join(f"{rows[a, lr, steps]:.3f}" for a, lr in cols) + " |")

if __name__ == "__main__":
    main()
