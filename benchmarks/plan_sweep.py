"""Benchmark: the scorer's work plan (pixels per chunk x ensembles vmapped per step) on this device.

For each (``pixel_chunk``, ``ensemble_batch``) in the grid, all four ensemble metrics for every ensemble in
one call, median of --repeats wall times after a warm-up call that compiles. Prints a table with the
rate reached: ensemble x pixel x class elements per second, and that rate over --peak (the device's
elementwise float32 rate, operations per second) as the "fraction of the one-operation-per-element bound"
(the DESIGN's arithmetic bound counts one operation per element: 1.25e11 for the headline case; the dense
kernel does about S + 5 per element, so a fraction near 1 / (S + 5) is already the arithmetic limit).
The default plan (``Plan.make``) is marked; the fastest row says what ``Plan.make`` should choose here.

    python benchmarks/plan_sweep.py                                   # headline case, accelerator grid
    python benchmarks/plan_sweep.py --pool peaked --iou-pass dense,auto
    python benchmarks/plan_sweep.py --n 20000 --chunks 512,1024 --batches 1 --repeats 1   # a CPU look

CPU: one XLA device per core (--cpu-devices, set before jax is imported).
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from cases import add_case_arguments, set_cpu_devices

# elementwise float32 operations per second, by jax device_kind (vendor data sheets, non-tensor-core FP32)
PEAK_FP32 = {"NVIDIA H200": 67e12, "NVIDIA H100 80GB HBM3": 67e12, "NVIDIA A100-SXM4-80GB": 19.5e12}


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(parser)
    parser.add_argument("--pool", default="random", choices=("random", "peaked"))
    parser.add_argument("--chunks", default="4096,8192,32768,131072", help="pixel_chunk values")
    parser.add_argument("--batches", default="64,256,1024,4096", help="ensemble_batch values")
    parser.add_argument("--iou-pass", default="dense", help="comma-separated iou_pass values")
    parser.add_argument("--memory-budget-mb", type=int, default=16384,
                        help="device working memory the plan may use (the default plan is made with it)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peak", type=float, default=0.0,
                        help="elementwise float32 operations/s of the device (default: PEAK_FP32 by device kind)")
    args = parser.parse_args()
    set_cpu_devices(args.cpu_devices)
    import jax

    from transel_jax.ensembles import score_ensembles
    from transel_jax.ensembles.scorer import Plan
    from transel_jax.provenance import versions

    import score_ensembles as bench  # this folder's benchmark: its input pools

    device = jax.devices()[0]
    peak = args.peak or PEAK_FP32.get(device.device_kind, 0.0)
    num_ens = math.comb(args.N, args.S)
    elements = num_ens * args.n * args.C
    budget = args.memory_budget_mb << 20
    default = Plan.make(args.N, args.C, budget, jax.default_backend())
    print(f"case: N={args.N} S={args.S} -> {num_ens:,} ensembles, n={args.n:,}, C={args.C}, {args.pool} pool; "
          f"{len(jax.devices())} x {device.device_kind} ({jax.default_backend()}); default plan: chunk "
          f"{default.pixel_chunk}, batch {default.batch}; versions: {versions()}", flush=True)
    eep, labels = bench.POOLS[args.pool](args.N, args.n, args.C, args.seed)
    rows = []
    grid = [(c, b, p) for p in args.iou_pass.split(",") for c in _ints(args.chunks) for b in _ints(args.batches)]
    if (default.pixel_chunk, default.batch) not in {(c, b) for c, b, _ in grid}:
        grid += [(default.pixel_chunk, default.batch, p) for p in args.iou_pass.split(",")]
    for chunk, batch, iou_pass in grid:
        kw = dict(metrics=("ms_leep", "e_leep", "iou_eep", "soft_iou_eep"), memory_budget=budget,
                  pixel_chunk=chunk, ensemble_batch=batch, iou_pass=iou_pass, progress=False)
        try:
            start = time.perf_counter()
            score_ensembles(eep, labels, args.S, **kw)  # compiles
            first = time.perf_counter() - start
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                score_ensembles(eep, labels, args.S, **kw)
                times.append(time.perf_counter() - start)
        except Exception as e:  # noqa: BLE001 -- an out-of-memory plan is a row of the table, not the end
            print(f"  chunk {chunk} batch {batch} {iou_pass}: failed ({type(e).__name__}: {str(e)[:120]})", flush=True)
            rows.append((chunk, batch, iou_pass, None, None))
            continue
        t = statistics.median(times)
        rows.append((chunk, batch, iou_pass, t, first))
        print(f"  chunk {chunk} batch {batch} {iou_pass}: {t:.3f} s (first call {first:.1f} s)", flush=True)
    done = [r for r in rows if r[3] is not None]
    best = min(done, key=lambda r: r[3]) if done else None
    print(f"\n| pixel_chunk | ensemble_batch | iou_pass | all four (s, median of {args.repeats}) | first call (s) | "
          "elements/s | fraction of bound |")
    print("|---|---|---|---|---|---|---|")
    for chunk, batch, iou_pass, t, first in rows:
        mark = " (default)" if (chunk, batch) == (default.pixel_chunk, default.batch) else ""
        mark += " (fastest)" if best is not None and (chunk, batch, iou_pass) == best[:3] else ""
        if t is None:
            print(f"| {chunk}{mark} | {batch} | {iou_pass} | failed | | | |")
            continue
        rate = elements / t
        frac = f"{rate / peak:.3f}" if peak else "(peak unknown: --peak)"
        print(f"| {chunk}{mark} | {batch} | {iou_pass} | {t:.3f} | {first:.1f} | {rate:.3g} | {frac} |")
    print(f"\nelements = E x n x C = {elements:.3g}; peak = {peak:.3g} op/s" if peak else
          f"\nelements = E x n x C = {elements:.3g}")


if __name__ == "__main__":
    main()
