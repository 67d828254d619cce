"""Where the time of one demo pool model and one demo fine-tune goes, phase by phase.

    python benchmarks/run_overhead.py                      # hrnetv2_tiny, resnet_tiny; 3 warm repeats
    python benchmarks/run_overhead.py --models resnet_tiny --repeats 1 --large ""

Everything runs in one process, as ``transel run`` does: the persistent compilation cache of
:func:`transel_jax.run.pipeline.enable_compilation_cache` lives in a fresh temporary directory, so the
first model of a kind is *cold* (nothing compiled yet) and the next ones are *warm* (in-memory and
persistent caches filled). Per architecture, with the demo config (configs/demo.py) and its trainer
configs (:func:`transel_jax.run.pool.training_config`, :func:`transel_jax.run.finetunes.finetune_config`):

* pool model: ``transel_jax.train.run.run`` on ``--source`` (100 steps, batch 8, 64x64; eval on the
  first 60 test images). Cold: from scratch; warm: ``--repeats`` models from the cold one's backbone
  (the demo's "generic" init: checkpoint restore and backbone transplant included);
* fine-tune: ``transel_jax.transfer.finetune`` on ``--target`` (60 steps) followed by the test
  prediction of ``transel_jax.run.finetunes.finetune_one`` (60 images). Cold: the first fine-tune onto
  the target; warm: ``--repeats`` fine-tunes of the warm pool models.
* pool new classes: last, a scratch model on ``--other-source`` (another class count): what most cold
  models of a run are, a new train step to compile in a process where everything else is warm.

Phases come from :mod:`transel_jax.train.phases` (the library's own timers); "other" is the wall time of
the whole call minus the phases. Warm columns are medians over the repeats. A last table times the
data stream alone (rendering and augmenting the synthetic images; the trainer overlaps it with training
in a prefetch thread, so only its "data" wait shows above), and ``--large`` trains the B1L stand-in
``hrnetv2_tiny_l`` cold for 100 steps. The header records the load average before and after.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import jax
from tqdm.auto import tqdm

import transel_jax
from transel_jax.config import load_config
from transel_jax.data import pipeline
from transel_jax.run import datasets, finetunes, plan, pool
from transel_jax.run.pipeline import enable_compilation_cache
from transel_jax.transfer.predictions import test_logits
from transel_jax.train import phases
from transel_jax.train import run as train_run
from transel_jax.transfer import finetune

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHASES = ("init", "restore", "state", "compile", "steps", "data", "checkpoint", "eval", "predict")


def timed(fn):
    """(result, {phase: seconds, "other", "total"}) of ``fn()``."""
    phases.reset()
    start = time.perf_counter()
    result = fn()
    total = time.perf_counter() - start
    times = {p: phases.totals().get(p, 0.0) for p in PHASES}
    times["other"] = total - sum(times.values())
    times["total"] = total
    return result, times


def pool_model(config, arch: str, dataset: str, workdir: str, init_from: str = ""):
    spec = plan.SourceSpec(dataset, arch, "generic" if init_from else "scratch")
    return train_run.run(pool.training_config(config, spec, init_from), workdir, resume=True,
                         source=datasets.split(config, dataset, "train"),
                         eval_source=datasets.split(config, dataset, config.data.test_split,
                                                    config.data.test_images),
                         info=datasets.info(config, dataset))


def fine_tune(config, arch: str, checkpoint: str, target: str, workdir: str):
    """What ``finetunes.finetune_one`` does: fine-tune, then predict the test images once."""
    info = datasets.info(config, target)
    result = finetune(checkpoint, target, workdir=workdir, config=finetunes.finetune_config(config, arch),
                      resume=True, source=datasets.split(config, target, "train"), info=info)
    from transel_jax.models import build

    test = datasets.split(config, target, config.data.test_split, config.data.test_images)
    return test_logits(build(arch, info.num_classes), result.state.variables, test, info,
                       batch_size=config.data.eval_batch_size)


def median_times(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def measure_architecture(config, arch: str, args, tmp: str, bar) -> dict:
    """{column: phase times} for one architecture (cold/warm pool model, cold/warm fine-tune)."""
    out, warm_pool, warm_ft = {}, [], []
    _, out["pool cold"] = timed(lambda: pool_model(config, arch, args.source, os.path.join(tmp, arch, "p0")))
    bar.update(1)
    cold_ckpt = os.path.join(tmp, arch, "p0", "checkpoints")
    _, out["finetune cold"] = timed(lambda: fine_tune(config, arch, cold_ckpt, args.target,
                                                      os.path.join(tmp, arch, "f0")))
    bar.update(1)
    for r in range(1, args.repeats + 1):
        workdir = os.path.join(tmp, arch, f"p{r}")
        warm_pool.append(timed(lambda: pool_model(config, arch, args.source, workdir, cold_ckpt))[1])
        bar.update(1)
        warm_ft.append(timed(lambda: fine_tune(config, arch, os.path.join(workdir, "checkpoints"), args.target,
                                               os.path.join(tmp, arch, f"f{r}")))[1])
        bar.update(1)
    out["pool warm"], out["finetune warm"] = median_times(warm_pool), median_times(warm_ft)
    _, out["pool new classes"] = timed(lambda: pool_model(config, arch, args.other_source,
                                                          os.path.join(tmp, arch, "q")))
    bar.update(1)
    return out


def data_stream_seconds(config, dataset: str, steps: int, batch_size: int) -> dict:
    """Seconds to build the sources and draw ``steps`` training batches and the eval batches, alone."""
    info = datasets.info(config, dataset)
    start = time.perf_counter()
    source = datasets.split(config, dataset, "train")
    test = datasets.split(config, dataset, config.data.test_split, config.data.test_images)
    made = time.perf_counter()
    for _ in pipeline.train_batches(source, info, batch_size=batch_size, seed=0, num_steps=steps):
        pass
    trained = time.perf_counter()
    for _ in pipeline.eval_batches(test, info, batch_size=config.data.eval_batch_size):
        pass
    return {"sources": made - start, "train batches": trained - made, "eval batches": time.perf_counter() - trained}


def print_phase_table(arch: str, columns: dict) -> None:
    names = list(columns)
    print(f"\n{arch}: seconds per phase\n")
    print("| phase | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for p in (*PHASES, "other", "total"):
        cells = " | ".join(f"{columns[n][p]:.2f}" for n in names)
        print(f"| {'**total**' if p == 'total' else p} | {cells} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.path.join(ROOT, "configs", "demo.py"))
    parser.add_argument("--models", nargs="+", default=["hrnetv2_tiny", "resnet_tiny"])
    parser.add_argument("--source", default="syn_drive_day", help="pool dataset of the timed models")
    parser.add_argument("--other-source", default="syn_aerial_urban",
                        help="pool dataset with another class count, trained last: a cold step in a warm process")
    parser.add_argument("--target", default="syn_drive_small", help="target dataset of the fine-tunes")
    parser.add_argument("--repeats", type=int, default=3, help="warm models per column (median)")
    parser.add_argument("--large", default="hrnetv2_tiny_l", help="B1L model to time cold ('' = skip)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    load_before = os.getloadavg()
    tables, large = {}, None
    with tempfile.TemporaryDirectory(prefix="run_overhead_") as tmp:
        enable_compilation_cache(tmp)
        bar = tqdm(total=len(args.models) * (2 * args.repeats + 3) + bool(args.large), desc="models",
                   unit="model")
        for arch in args.models:
            tables[arch] = measure_architecture(config, arch, args, tmp, bar)
        if args.large:
            _, large = timed(lambda: pool_model(config, args.large, args.source, os.path.join(tmp, "large")))
            bar.update(1)
        bar.close()
        stream = data_stream_seconds(config, args.source, config.pool.steps, config.pool.batch_size)
    devices = jax.devices()
    print(f"\ntransel_jax {transel_jax.__version__}, jax {jax.__version__}, {len(devices)} x "
          f"{devices[0].device_kind} ({devices[0].platform}), {os.cpu_count()} CPUs; config {args.config}: "
          f"pool {config.pool.steps} steps, fine-tune {config.targets.steps} steps, batch {config.pool.batch_size}, "
          f"{config.data.resolution}x{config.data.resolution}, {config.data.test_images} test images; source "
          f"{args.source}, target {args.target}; warm = median of {args.repeats}; load average (1/5/15 min) "
          f"before {', '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"command: python {' '.join(sys.argv)}")
    for arch, columns in tables.items():
        print_phase_table(arch, columns)
    if large is not None:
        print_phase_table(f"{args.large} (B1L stand-in), cold, {config.pool.steps} steps", {"pool cold": large})
    print(f"\ndata stream alone ({args.source}): " + ", ".join(f"{k} {v:.2f} s" for k, v in stream.items()))


if __name__ == "__main__":
    main()
