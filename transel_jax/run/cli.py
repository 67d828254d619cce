"""``transel run --config configs/demo.py [--workdir DIR] [--fresh] [--until STAGE] [--config.a.b=value]``.

Reproduces the papers' studies end to end: source pool, fine-tunes, actual ensemble mIoU, pixel probes,
scoring, evaluation, selection, factors of influence, report (:mod:`transel_jax.run.pipeline`). Finished
stages are cached in the run directory and skipped on a rerun; ``--fresh`` starts over.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="Python config file with get_config()")
    parser.add_argument("--workdir", default="", help="run directory (default: runs/<config name>)")
    parser.add_argument("--fresh", action="store_true", help="clear the run directory and start over")
    parser.add_argument("--until", default=None, help="stop after this stage")
    parser.set_defaults(config_overrides=[])
    parser.epilog = "Override any config field with --config.group.field=value (typed like the field)."


def main(args: argparse.Namespace) -> int:
    import os

    from transel_jax.config import load_config
    from transel_jax.run import pipeline

    config = load_config(args.config, args.config_overrides)
    workdir = args.workdir or os.path.join("runs", config.name)
    markers = pipeline.run(config, workdir, fresh=args.fresh, until=args.until)
    total = sum(m["wall_s"] for m in markers.values())
    print(f"run directory {workdir}: {len(markers)} stages done, {total:.1f} s of stage wall time")
    if "report" in markers:
        print(f"report: {markers['report']['summary']['report']}")
    return 0
