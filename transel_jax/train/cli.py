"""``transel train --config FILE [--config.a.b=value ...] --workdir DIR [--resume]``.

Trains (or, with ``--config.train.init_from=<source checkpoints dir>``, fine-tunes) the model the config
names on every local device (and every host with ``--config.distributed=true``), checkpointing into
``DIR/checkpoints`` and logging to ``DIR/metrics.jsonl``; ``--resume`` continues exactly where the newest
readable checkpoint left off. The resolved config is written to ``DIR/config.json``.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="Python config file with get_config()")
    parser.add_argument("--workdir", required=True, help="run directory (checkpoints, metrics.jsonl)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    parser.set_defaults(config_overrides=[])
    parser.epilog = "Override any config field with --config.group.field=value (typed like the field)."


def main(args: argparse.Namespace) -> int:
    import json
    import os

    from transel_jax.config import load_config
    from transel_jax.train import distributed, run, validate

    config = load_config(args.config, args.config_overrides)
    validate.check_train_config(config)  # before any work: seconds of loading and compiling otherwise
    distributed.initialize_distributed(config.distributed)  # before any other jax call
    os.makedirs(args.workdir, exist_ok=True)
    if distributed.is_logging_process():
        with open(os.path.join(args.workdir, "config.json"), "w", encoding="utf-8") as f:
            json.dump({"config_file": args.config, "overrides": args.config_overrides,
                       "config": config.to_dict()}, f, indent=1)
    with distributed.exit_promptly_on_error():  # several processes: a failed one exits, not waits
        result = run.run(config, args.workdir, resume=args.resume)
    if result.eval is not None and distributed.is_logging_process():
        print(f"{config.eval.split} mIoU: {result.eval.miou:.4f} ({args.workdir}/eval.json)")
    return 0
