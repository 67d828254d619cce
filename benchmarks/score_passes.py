"""Benchmark: the dense and the exact pruned IoU pass of the all-ensembles scorer, on random and on
peaked (trained-model-like) inputs, all four metrics in one call; exactness against the dense pass.

Prints per pool and pass the median of --repeats wall times (after a warm-up on a slice that compiles
every kernel), the ratio to the dense pass measured in the same run, and the largest absolute score
difference from the dense pass. CPU: one XLA device per core (set before jax is imported).

    python benchmarks/score_passes.py                       # headline case N=64 S=3 n=150,000 C=20
    python benchmarks/score_passes.py --C 134 --n 40000     # many classes
    python benchmarks/score_passes.py --npy /tmp/bench/eep_64_1000000_134.npy --n 12288 --repeats 1
        # the first n pixels of a float16 file written by benchmarks/score_memmap.py (pixels sorted by label)
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from cases import add_case_arguments, set_cpu_devices

_HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(parser)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pools", default="random,peaked")
    parser.add_argument("--passes", default="dense,pruned,auto")
    parser.add_argument("--npy", default=None,
                        help="score the first --n pixels of this [N, n, C] .npy (its labels in PATH.labels.npy) "
                             "instead of generated pools; N and C come from the file")
    args = parser.parse_args()
    set_cpu_devices(args.cpu_devices)
    import importlib.util

    import jax

    spec = importlib.util.spec_from_file_location("score_ensembles", os.path.join(_HERE, "score_ensembles.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    POOLS = bench.POOLS
    if args.npy:
        file = np.load(args.npy, mmap_mode="r")
        args.N, args.C = file.shape[0], file.shape[2]
        POOLS = {"file": lambda N, n, C, seed: (np.asarray(file[:, :n]),
                                                np.load(args.npy + ".labels.npy")[:n])}
        args.pools = "file"
    from transel_jax.ensembles import score_ensembles

    metrics = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep")
    print(f"case: N={args.N} S={args.S} n={args.n:,} C={args.C}; {len(jax.devices())} x "
          f"{jax.devices()[0].device_kind}; medians of {args.repeats}")
    print("| pool | pass | all four metrics (s) | / dense | max abs diff vs dense |")
    print("|---|---|---|---|---|")
    for pool in args.pools.split(","):
        eep, labels = POOLS[pool](args.N, args.n, args.C, args.seed)
        results, times = {}, {}
        for name in args.passes.split(","):
            kw = dict(metrics=metrics, progress=False, iou_pass=name)
            score_ensembles(eep[:, :4096], labels[:4096], args.S, **kw)
            runs = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                results[name] = score_ensembles(eep, labels, args.S, **kw)
                runs.append(time.perf_counter() - start)
            times[name] = statistics.median(runs)
            ref = results.get("dense")
            diff = (max(float(np.abs(results[name].scores[m] - ref.scores[m]).max()) for m in metrics)
                    if ref is not None else float("nan"))
            ratio = times[name] / times["dense"] if "dense" in times else float("nan")
            print(f"| {pool} | {name} | {times[name]:.2f} (runs {', '.join(f'{t:.1f}' for t in runs)}) | "
                  f"{ratio:.2f} | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
