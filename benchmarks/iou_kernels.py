"""Benchmark: the IoU pass's per-chunk kernels, in ns per (ensemble, pixel): the dense kernel, the pruned
kernel with the pair table (contiguous rows) and with gathered lookups, on one single-class chunk of
every ensemble. Where the scorer's time goes, without the rest of a full call.

Prints the median of --repeats timed calls (after one that compiles) per kernel, the ratio to the dense
kernel measured in the same run, and the share of uncertified pixels. CPU: one XLA device per core (set
before jax is imported).

    python benchmarks/iou_kernels.py                    # N=64 S=3 (41,664 ensembles), m=1024, C=20, peaked
    python benchmarks/iou_kernels.py --C 134 --pool random
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=64)
    parser.add_argument("--S", type=int, default=3)
    parser.add_argument("--m", type=int, default=1024, help="pixels in the chunk (the CPU plan's chunk)")
    parser.add_argument("--C", type=int, default=20)
    parser.add_argument("--pool", default="peaked", choices=("peaked", "random"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu-devices", type=int, default=os.cpu_count(), help="XLA CPU devices (before jax)")
    args = parser.parse_args()
    flag = f"--xla_force_host_platform_device_count={args.cpu_devices}"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
    import jax
    from jax.sharding import Mesh

    from transel_jax.ensembles import kernels, pruned, scorer
    from transel_jax.ensembles.combinations import all_ensembles

    import score_ensembles as bench  # this folder's benchmark: its input pools

    # one chunk of a single true class, as the scorer cuts them
    eep, labels = bench.POOLS[args.pool](args.N, args.m * args.C * 2, args.C, args.seed)
    cls = 1
    idx = np.nonzero(labels == cls)[0][: args.m]
    chunk = np.ascontiguousarray(eep[:, idx])  # [N, m, C]
    weights = np.ones(args.m, np.float32)
    members = all_ensembles(args.N, args.S)
    mesh = Mesh(np.array(jax.devices()), (kernels.AXIS,))
    rep = lambda x: scorer._replicate(x, mesh)  # noqa: E731
    members_dev = scorer._split_ensembles(members, mesh, 1)
    cls_dev, w_dev = rep(np.int32(cls)), rep(weights)
    num_ens = members.shape[0]
    print(f"case: N={args.N} S={args.S} ({num_ens:,} ensembles), one {args.m}-pixel chunk, C={args.C}, "
          f"{args.pool} pool; {len(jax.devices())} x {jax.devices()[0].device_kind}; medians of {args.repeats}")

    def timed(fn):
        jax.block_until_ready(fn())
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = jax.block_until_ready(fn())
            times.append(time.perf_counter() - t0)
        return statistics.median(times), out

    dense_chunk = rep(np.ascontiguousarray(chunk.transpose(0, 2, 1)))
    dense_kernel = kernels.on_mesh(kernels.class_chunk_stats, mesh, 4, split_ties=False, batch=1)
    t_dense, _ = timed(lambda: dense_kernel(dense_chunk, cls_dev, w_dev, members_dev))
    rows = [("dense", t_dense, None)]
    pruned_kernel = kernels.on_mesh(pruned.pruned_chunk_stats, mesh, 8, batch=1, num_classes=args.C)
    prepare, make_table = pruned.replicated_prepare(mesh, 1), pruned.replicated_table(mesh)
    for name, with_table in (("pruned, pair table", True), ("pruned, gathered lookups", False)):

        def lists():  # prepare's lists and the kernel's lookup values (the pair table or the chunk)
            chunk_dev = rep(chunk)
            top_c, top_v, bound, q = prepare(chunk_dev, cls_dev)
            return (make_table(chunk_dev, top_c) if with_table else chunk_dev), top_c, top_v, bound, q

        values, top_c, top_v, bound, q = lists()
        t, out = timed(lambda: pruned_kernel(values, top_c, top_v, bound, q, cls_dev, w_dev, members_dev))
        bits = np.asarray(out[3])[:num_ens]
        uncertified = float(np.unpackbits(bits.view(np.uint8)).sum()) / (num_ens * args.m)
        t_prep, _ = timed(lists)
        rows.append((name, t, (uncertified, t_prep)))
    print("| kernel | s per chunk | ns per (ensemble, pixel) | / dense | uncertified pixels | prepare (s) |")
    print("|---|---|---|---|---|---|")
    for name, t, extra in rows:
        ns = t / (num_ens * args.m) * 1e9
        tail = "| - | - |" if extra is None else f"| {extra[0]:.3%} | {extra[1]:.3f} |"
        print(f"| {name} | {t:.3f} | {ns:.2f} | {t / t_dense:.2f} {tail}")


if __name__ == "__main__":
    main()
