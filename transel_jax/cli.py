"""The ``transel`` command.

Each verb lives in the module that owns its concern and exposes ``add_arguments(parser)`` and
``main(args) -> int``; this file only dispatches. ``add_arguments`` must stay cheap: a verb module
imports jax, flax and friends inside ``main`` so that ``transel --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# verb -> (module, one-line help). A module provides add_arguments(parser) and main(args).
VERBS: dict[str, tuple[str, str]] = {
    "score": ("transel_jax.ensembles.cli", "score every candidate ensemble from an .npz of probabilities"),
    "data": ("transel_jax.data.cli", "list datasets and write preview grids with label overlays"),
    "real": ("transel_jax.data.real.cli", "check or prepare (TFDS array_record) the 17 real datasets from local files"),
    "train": ("transel_jax.train.cli", "train or fine-tune a segmentation model from a config (data-parallel)"),
    "run": ("transel_jax.run.cli", "reproduce the papers' studies end to end from a config, with a report"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="transel", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for verb, (module, help_) in VERBS.items():
        p = sub.add_parser(verb, help=help_, description=help_)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # Verbs taking ml_collections-style `--config.a.b=value` overrides set_defaults(config_overrides=[]).
    if extra and not (hasattr(args, "config_overrides") and all(e.startswith("--config.") or not e.startswith("-")
                                                               for e in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if hasattr(args, "config_overrides"):
        args.config_overrides = extra
    return int(importlib.import_module(args._module).main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
