"""``transel real``: list the real datasets, check a local copy's layout, prepare TFDS array_record files.

    transel real list
    transel real check cityscapes --root ~/data/cityscapes
    transel real prepare cityscapes --root ~/data/cityscapes --data-dir ~/tfds
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", help="name, domain, labels, split sizes and resolution of each dataset")
    for action, help_ in (
        ("check", "open every split from the original files and decode its first example"),
        ("prepare", "write the TFDS array_record dataset transel_real/NAME from the original files"),
    ):
        p = sub.add_parser(action, help=help_)
        p.add_argument("name", help="dataset name (see `transel real list`)")
        p.add_argument("--root", default=None, help="folder with the original files (default $TRANSEL_REAL_DATA/NAME)")
        if action == "prepare":
            p.add_argument("--data-dir", required=True, help="TFDS data_dir to write to")


def _list() -> int:
    from transel_jax.data import catalog

    print(f"{'name':<11} {'domain':<11} {'labels':>6} {'train':>7} {'val':>6} {'resolution':>10} target")
    for name in catalog.names(suite="real"):
        m = catalog.info(name)
        res = "x".join(map(str, m.resolution))
        print(f"{name:<11} {m.domain:<11} {m.num_labels:>6} {m.splits['train']:>7} {m.splits['validation']:>6} "
              f"{res:>10} {m.target_train_size}")
    return 0


def _check(name: str, root) -> int:
    import numpy as np

    from transel_jax.data import catalog
    from transel_jax.data.real import default_root

    meta = catalog.info(name)
    for split in meta.splits:
        src = catalog.load(name, split, root=root or default_root(name))
        if len(src) == 0:
            print(f"{name}/{split}: 0 examples")
            continue
        ex = src[0]
        present = [meta.class_names[k] for k in np.unique(ex["label"])]
        print(f"{name}/{split}: {len(src)} examples (catalog: {meta.splits[split]}); "
              f"{src.keys[0]}: image {ex['image'].shape}, labels {present}")
    return 0


def main(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list()
    if args.action == "check":
        return _check(args.name, args.root)
    from transel_jax.data.real import default_root, tfds_builder

    out = tfds_builder.prepare(args.name, root=args.root or default_root(args.name), data_dir=args.data_dir)
    print(f"wrote {out}")
    return 0
