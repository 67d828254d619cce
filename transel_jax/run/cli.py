"""``transel run --config FILE [--workdir DIR] [--fresh] [--until STAGE] [--rerun STAGE ...] [--dry-run]
[--distributed] [--config.a.b=value ...]``.

Reproduces the papers' studies end to end: source pool, pixel probes, scoring, candidates, fine-tunes, actual
ensemble mIoU, evaluation, selection, factors of influence, report (:mod:`transel_jax.run.pipeline`).
Finished stages are cached in the run directory and skipped on a rerun (:mod:`transel_jax.run.stage`).

- ``--fresh``: clear the run directory and start over (its compilation cache ``.jax_cache`` is kept: it
  changes no result).
- ``--until STAGE``: stop after that stage.
- ``--rerun STAGE [STAGE ...]``: clear those stages and recompute them, and the stages after them (those
  after a content-addressed stage, e.g. ``candidates``, only if what it computes changed). Use it when a
  cached stage's line says other code computed it.
- ``--distributed``: the same command on every host (one process per host, ``jax.distributed``): the pool
  models, probes, scoring jobs, fine-tunes and ensemble heads are divided among the hosts, each doing its
  share on its own devices, the other stages run on host 0; hosts meet between stages
  (:mod:`transel_jax.run.hosts`).
- ``--dry-run``: print the plan (per stage cached / will run / stale and why; the models to train, the
  fine-tunes and ensembles per target; whether every dataset the config names is there) and exit without
  training or writing anything: status 2 if a dataset is missing, else 0 (:mod:`transel_jax.run.dryrun`).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="Python config file with get_config()")
    parser.add_argument("--workdir", default="", help="run directory (default: runs/<config name>)")
    parser.add_argument("--fresh", action="store_true", help="clear the run directory and start over")
    parser.add_argument("--until", default=None, metavar="STAGE", help="stop after this stage")
    parser.add_argument("--rerun", nargs="+", default=[], metavar="STAGE",
                        help="clear and recompute these stages (and the stages after them)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would run, the work and missing data; train and write nothing "
                             "(exit status 2 if data is missing)")
    parser.add_argument("--distributed", action="store_true",
                        help="one process per host joined by jax.distributed (TPU pod, SLURM, or "
                             "launch/local_multiprocess.sh): the models are divided among the hosts, each "
                             "training its share on its own devices; the run directory must be shared")
    parser.set_defaults(config_overrides=[])
    parser.epilog = "Override any config field with --config.group.field=value (typed like the field)."


def main(args: argparse.Namespace) -> int:
    import os

    from transel_jax.config import load_config

    config = load_config(args.config, args.config_overrides)
    workdir = args.workdir or os.path.join("runs", config.name)
    if args.distributed:
        from transel_jax.train import distributed

        distributed.join_job()  # the hosts' coordination service; each host keeps its own devices
    from transel_jax.run import hosts

    if args.dry_run:
        if not hosts.is_main():
            return 0  # the plan is printed once
        from transel_jax.run import dryrun

        return dryrun.main(config, workdir, until=args.until, rerun=args.rerun)
    from transel_jax.run import pipeline

    from transel_jax.train.distributed import exit_promptly_on_error

    with exit_promptly_on_error():  # several hosts: a failed one exits instead of waiting for the others
        markers = pipeline.run(config, workdir, fresh=args.fresh, until=args.until, rerun=args.rerun)
    if not hosts.is_main():
        return 0
    total = sum(m["wall_s"] for m in markers.values())
    print(f"run directory {workdir}: {len(markers)} stages done, {total:.1f} s of stage wall time")
    if "report" in markers:
        print(f"report: {markers['report']['summary']['report']}")
    return 0
