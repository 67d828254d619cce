"""What the rendered-image cache of the synthetic sources buys one pool model: wall time per model, cache off
against cache warm, in one process.

    python benchmarks/render_cache.py                                   # study recipe, hrnetv2_tiny, 600 steps
    taskset -c 0 python benchmarks/render_cache.py                      # one core, as each of two processes has
    python benchmarks/render_cache.py --architecture resnet_tiny --steps 300 --repeats 5

One pool model (``transel_jax.run.pool.training_config`` of ``--config``: batch, learning rate, schedule;
scratch init, no evaluation) is trained on ``--dataset`` first once untimed (compiling the step), then
``--repeats`` times per mode, the modes alternating: "off" renders every image on every read
(``CACHE_BYTES = 0``, what every read cost before the cache); "warm" reads every image from the cache, as a
dataset's later pool models and a fine-tune's later epochs do. Prints the median, min and max wall seconds
per model and the off / warm ratio of the medians, with the machine's load average before and after.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/study.py")
    ap.add_argument("--dataset", default="syn_drive_day")
    ap.add_argument("--architecture", default="hrnetv2_tiny")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from tqdm.auto import tqdm

    from transel_jax.config import load_config
    from transel_jax.data.synthetic import source as synthetic_source
    from transel_jax.run import datasets, plan
    from transel_jax.run.pool import training_config
    from transel_jax.train import run

    load_before = os.getloadavg()[0]
    config = load_config(args.config)
    config.pool.steps = args.steps
    info = datasets.info(config, args.dataset)
    source = datasets.split(config, args.dataset, "train")
    trainer = training_config(config, plan.SourceSpec(args.dataset, args.architecture, "scratch"))
    trainer.eval.split = ""
    default_bytes = synthetic_source.CACHE_BYTES

    def one(mode: str) -> float:
        synthetic_source.CACHE_BYTES = 0 if mode == "off" else default_bytes
        if mode == "off":
            synthetic_source.clear_cache()
        with tempfile.TemporaryDirectory() as root:
            start = time.perf_counter()
            run.run(trainer, root, source=source, eval_source=None, info=info)
            return time.perf_counter() - start

    one("warm")  # compiles the step and fills the cache
    times = {"off": [], "warm": []}
    for _ in tqdm(range(args.repeats), desc="repeats"):
        for mode in times:
            times[mode].append(one(mode))
    print(f"\n{args.architecture} on {args.dataset}, {args.steps} steps of {args.config}'s pool recipe "
          f"(batch {config.pool.batch_size}), {len(os.sched_getaffinity(0))} usable CPU(s), load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after; wall seconds per model over {args.repeats} "
          "repeats\n")
    print("| render cache | median (s) | min (s) | max (s) |")
    print("|---|---|---|---|")
    for mode, values in times.items():
        print(f"| {mode} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")
    print(f"\noff / warm: {statistics.median(times['off']) / statistics.median(times['warm']):.2f}x")


if __name__ == "__main__":
    main()
