"""Images per second of the synthetic generator and of the training/eval input pipeline.

    python benchmarks/data_throughput.py [--repeats 5] [--datasets syn_drive_day syn_aerial_urban ...]

For each resolution (64 and 512 by default) it times, ``--repeats`` times each, the median of:
  generator   ``synthetic.generate(name, indices)`` on a fresh block of indices (vectorised rendering);
  train       ``pipeline.train_batches`` (render + rescale/flip/crop + normalise, prefetch thread on);
  eval        ``pipeline.eval_batches`` (render + single-scale fit + normalise).
Numbers depend on the machine and its load: the table header prints the CPU count and load average, and the
table gives both wall-clock rates and rates per second of CPU time used by this process.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from tqdm import tqdm

from transel_jax.data import pipeline, synthetic

DEFAULT_DATASETS = ("syn_consumer_broad", "syn_drive_adverse", "syn_aerial_urban", "syn_indoor_scan",
                    "syn_underwater_reef", "syn_virtual_drive")


def _rate(fn, images: int) -> tuple[float, float]:
    """(wall-clock images/s, images per second of this process's CPU time)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return images / (time.perf_counter() - wall), images / (time.process_time() - cpu)


def generator_rate(name: str, resolution: int, images: int, block: int) -> tuple[float, float]:
    indices = np.arange(block * images, (block + 1) * images) % synthetic.get(name).size
    return _rate(lambda: synthetic.generate(name, indices, resolution=resolution), images)


def train_rate(name: str, resolution: int, batch: int, steps: int, block: int) -> tuple[float, float]:
    source = synthetic.SyntheticSource(name, "train", resolution=resolution)
    info = synthetic.dataset_info(name, resolution)
    it = pipeline.train_batches(source, info, batch_size=batch, seed=block, start_step=block * steps,
                                num_steps=steps + 1)
    next(it)  # start the prefetch thread; time the steady state

    def run():
        for _ in it:
            pass

    return _rate(run, batch * steps)


def eval_rate(name: str, resolution: int, batch: int, steps: int) -> tuple[float, float]:
    source = synthetic.SyntheticSource(name, "validation", resolution=resolution)
    source = pipeline.Subset(source, np.arange(batch * steps) % len(source))
    info = synthetic.dataset_info(name, resolution)
    return _rate(lambda: list(pipeline.eval_batches(source, info, batch_size=batch)), batch * steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resolutions", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--datasets", nargs="+", default=list(DEFAULT_DATASETS))
    args = parser.parse_args()

    plan = {64: dict(images=512, batch=32, steps=8), 512: dict(images=16, batch=8, steps=2)}
    rows = []
    for res in args.resolutions:
        size = plan.get(res, plan[512] if res > 128 else plan[64])
        rates = {"generator": [], "train": [], "eval": []}
        for rep in tqdm(range(args.repeats), desc=f"{res}x{res}"):
            for name in args.datasets:
                rates["generator"].append(generator_rate(name, res, size["images"], rep))
                rates["train"].append(train_rate(name, res, size["batch"], size["steps"], rep))
                rates["eval"].append(eval_rate(name, res, size["batch"], size["steps"]))
        for stage, values in rates.items():
            wall, cpu = zip(*values)
            rows.append((f"{res}x{res}", stage, statistics.median(wall), min(wall), max(wall), statistics.median(cpu)))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nsynthetic data throughput, images/s (median over {args.repeats} repeats x {len(args.datasets)} "
          f"datasets; {os.cpu_count()} CPUs, load average {load:.1f})")
    print("wall = images per wall-clock second; cpu = images per second of this process's CPU time (the rate with "
          "a free core; wall falls below it when other jobs share the CPUs)")
    print(f"{'resolution':>10}  {'stage':<10} {'wall med':>9} {'wall min':>9} {'wall max':>9} {'cpu med':>9}")
    for res, stage, med, lo, hi, cpu in rows:
        print(f"{res:>10}  {stage:<10} {med:9.1f} {lo:9.1f} {hi:9.1f} {cpu:9.1f}")


if __name__ == "__main__":
    main()
