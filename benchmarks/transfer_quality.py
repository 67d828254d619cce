"""What transfer and ensembling buy on the synthetic suite: target mIoU of scratch / fine-tuned / ensembles.

    python benchmarks/transfer_quality.py --workdir runs/transfer_quality     # about 5 min on 2 CPU cores

Trains two hrnetv2_tiny sources (configs/train_tiny.py) on ``--sources``, fine-tunes each on the 150-image
training subset of ``--target`` (configs/train_finetune.py; also with a frozen backbone for the first),
trains the same model from scratch on that subset, then trains an ensemble head on the two fine-tuned
members (1000 class-balanced pixels per target training image) and prints a markdown table of validation
mIoU. One seed: differences of a few points are within seed noise.
"""
from __future__ import annotations

import argparse
import os

import jax
import numpy as np

import transel_jax
from transel_jax.config import load_config
from transel_jax.data import catalog, pipeline, sampling
from transel_jax.train import run
from transel_jax.train.evaluate import evaluate
from transel_jax.models import EnsembleSegmenter, ensemble_variables
from transel_jax.transfer import finetune, train_ensemble_head
from transel_jax.transfer.ensemble_head import load_member

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config(name: str, overrides: list[str]):
    return load_config(os.path.join(ROOT, "configs", name), overrides)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--sources", nargs=2, default=["syn_drive_day", "syn_virtual_drive"])
    parser.add_argument("--target", default="syn_drive_small")
    parser.add_argument("--source-steps", type=int, default=300)
    parser.add_argument("--target-steps", type=int, default=200)
    args = parser.parse_args(argv)
    rows, members = [], []
    ft_overrides = [f"--config.train.steps={args.target_steps}", f"--config.data.dataset={args.target}"]
    for i, name in enumerate(args.sources):
        src_dir = os.path.join(args.workdir, f"source_{name}")
        src = run.run(config("train_tiny.py", [f"--config.train.steps={args.source_steps}",
                                               f"--config.data.dataset={name}"]), src_dir)
        rows.append((f"source {name} (its own validation)", src.eval.miou))
        ckpt = os.path.join(src_dir, "checkpoints")
        ft_dir = os.path.join(args.workdir, f"finetune_{name}")
        ft = finetune(ckpt, args.target, workdir=ft_dir, config=config("train_finetune.py", ft_overrides))
        rows.append((f"fine-tuned from {name}", ft.eval.miou))
        members.append(os.path.join(ft_dir, "checkpoints"))
        if i == 0:
            frozen = finetune(ckpt, args.target, workdir=os.path.join(args.workdir, f"frozen_{name}"),
                              config=config("train_finetune.py", ft_overrides), freeze_backbone=True)
            rows.append((f"fine-tuned from {name}, frozen backbone", frozen.eval.miou))
    scratch = run.run(config("train_finetune.py", ft_overrides), os.path.join(args.workdir, "scratch"))
    rows.append(("from scratch (random init)", scratch.eval.miou))

    info = catalog.info(args.target)
    train = pipeline.target_subset(catalog.load(info.name, "train"), info)
    labels = np.stack([train[i]["label"] for i in range(len(train))])
    sample = sampling.sample_pixels(labels, seed=0, max_per_image=1000)
    head = train_ensemble_head(members, train, info, sample, steps=300)
    loaded = [load_member(m)[:2] for m in members]
    model = EnsembleSegmenter(tuple(m for m, _ in loaded), info.num_classes)
    val = catalog.load(info.name, "validation")
    heads = (("ensemble of both, plain average", None), ("ensemble of both, trained head", head.variables))
    for label, head_vars in heads:
        variables = ensemble_variables([v for _, v in loaded], head_vars, info.num_classes)
        batches = pipeline.eval_batches(val, info, batch_size=8)
        result = evaluate(model, variables, batches, num_classes=info.num_classes)
        rows.append((label, result.miou))

    print(f"\ntransel_jax {transel_jax.__version__}, {jax.device_count()} x {jax.devices()[0].device_kind}; "
          f"hrnetv2_tiny, sources {args.source_steps} steps, target {args.target} ({info.target_train_size} "
          f"training images) {args.target_steps} steps; ensemble head NLL on {len(sample.labels)} pixels "
          f"{head.initial_nll:.4f} -> {head.final_nll:.4f}\n")
    print(f"| model | {args.target} validation mIoU |")
    print("|---|---|")
    for label, miou in rows:
        print(f"| {label} | {miou:.4f} |")


if __name__ == "__main__":
    main()
