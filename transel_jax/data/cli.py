"""``transel data``: list the catalog's datasets, write preview grids, check a folder dataset.

    transel data list [--suite synthetic]
    transel data preview SUITE_OR_DATASET --out grid.png [--n 4] [--seed 0] [--resolution 64]
    transel data check DIR [--labels void0|ignore255] [--no-progress]

``check`` validates a user's folder dataset (layout in :mod:`transel_jax.data.folder`): it reads every
image and label map, prints the per-split counts, the pixels per class and every problem, and exits 0 when
the folder is clean, 2 otherwise.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="COMMAND")
    sub.required = True
    lister = sub.add_parser("list", help="list the catalog's datasets with domain, classes and split sizes")
    lister.add_argument("--suite", choices=("synthetic", "real"), default=None)
    lister.add_argument("--domain", default=None)
    prev = sub.add_parser("preview", help="write a grid of samples with label overlays")
    prev.add_argument("target", metavar="SUITE_OR_DATASET", help="'synthetic', 'real' or a dataset name")
    prev.add_argument("--out", required=True, help="PNG file to write")
    prev.add_argument("--n", type=int, default=4, help="examples per dataset")
    prev.add_argument("--split", default="train")
    prev.add_argument("--tile", type=int, default=128, help="tile size in pixels")
    prev.add_argument("--seed", type=int, default=None, help="suite seed (synthetic datasets)")
    prev.add_argument("--resolution", type=int, default=None, help="image size (synthetic datasets)")
    prev.add_argument("--data-dir", default=None, help="root of a real dataset's files")
    check = sub.add_parser("check", help="check a folder dataset (images/, labels/, classes.txt): every file, "
                                         "counts, class histogram; exit 2 on problems")
    check.add_argument("dir", metavar="DIR", help="the folder dataset")
    check.add_argument("--labels", choices=("void0", "ignore255"), default=None,
                       help="label convention, overriding dataset.json (default: dataset.json's, else void0)")
    check.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    if args.data_command == "check":
        from transel_jax.data import folder

        report = folder.check_folder(args.dir, labels=args.labels, progress=args.progress)
        print(report.format())
        return 0 if report.ok else 2

    from transel_jax.data import catalog, preview

    if args.data_command == "list":
        for name in catalog.names(suite=args.suite, domain=args.domain):
            info = catalog.info(name)
            sizes = " ".join(f"{k}={v}" for k, v in info.splits.items())
            print(f"{name:24s} {info.suite:9s} {info.domain:10s} {info.num_classes:3d} classes  {sizes}")
        return 0
    load_kwargs = {k: v for k, v in (("seed", args.seed), ("resolution", args.resolution),
                                     ("data_dir", args.data_dir)) if v is not None}
    path = preview.save(args.target, args.out, per_dataset=args.n, split=args.split, tile=args.tile, **load_kwargs)
    print(f"wrote {path}")
    return 0
