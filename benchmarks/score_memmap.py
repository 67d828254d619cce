"""Benchmark: all ensembles of a paper-scale pool scored from a float16 memory map on disk.

Default case: N=64 sources (41,664 ensembles of 3), n=1,000,000 pixels, C=134 classes (a COCO/ADE20K-sized
target): a 17 GiB float16 [N, n, C] file, more than the memory this machine can spare. The file is
written once (source by source, pixel blocks of 100k, trained-model-like peaked predictions, pixels
sorted by label: the layout that streams well) and reused; pass --path to choose where.

Prints the wall time of all four metrics in one call, the time spent reading the file (inside the
chunk reads), the peak resident memory of the process, and the pass the engine chose.

    python benchmarks/score_memmap.py                        # N=64 n=1M C=134 (many minutes on a CPU)
    python benchmarks/score_memmap.py --n 100000 --N 16      # a quick look
    python benchmarks/score_memmap.py --N 1000 --n 150000 --C 20 --greedy   # greedy search, N = 1000
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import time

import numpy as np
from cases import add_case_arguments, set_cpu_devices


def write_pool(path: str, num_sources: int, num_pixels: int, num_classes: int, seed: int, block: int = 100_000):
    """Peaked trained-model-like float16 EEP [N, n, C] written block by block; labels sorted, saved beside.

    Per source an accuracy a_s in [0.45, 0.9]; each pixel's predicted class is its label with probability
    a_s (else another class); softmax(noise + boost on the predicted class), boost uniform in [3, 7]. To
    write 8.6e9 values in reasonable time, exp(noise) rows are drawn from one random [block, C] table
    (a fresh row permutation per source and block) instead of fresh normals per value.
    """
    rng = np.random.default_rng(seed)
    labels = np.sort(rng.integers(0, num_classes, num_pixels)).astype(np.int32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(num_sources, num_pixels, num_classes))
    accuracy = rng.uniform(0.45, 0.9, num_sources)
    table = np.exp(rng.standard_normal((block, num_classes), dtype=np.float32))
    for s in range(num_sources):
        for start in range(0, num_pixels, block):
            y = labels[start:start + block]
            m = y.size
            wrong = rng.random(m) >= accuracy[s]
            predicted = np.where(wrong, (y + rng.integers(1, num_classes, m)) % num_classes, y)
            p = table[rng.permutation(block)[:m]]
            p[np.arange(m), predicted] *= np.exp(rng.uniform(3.0, 7.0, m)).astype(np.float32)
            p /= p.sum(axis=1, keepdims=True)
            out[s, start:start + m] = p
    out.flush()
    del out
    np.save(path + ".labels.npy", labels)


class Timed:
    """The engine's own memmap source, timing its reads."""

    def __init__(self, source):
        self.source, self.shape, self.dtype, self.seconds, self.bytes = source, source.shape, source.dtype, 0.0, 0

    def read(self, pixels):
        start = time.perf_counter()
        out = self.source.read(pixels)
        self.seconds += time.perf_counter() - start
        self.bytes += out.nbytes
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(parser, n=1_000_000, C=134)
    parser.add_argument("--path", default=None, help="float16 .npy to write/reuse (default /tmp/eep_N_n_C.npy)")
    parser.add_argument("--metrics", default="ms_leep,e_leep,iou_eep,soft_iou_eep")
    parser.add_argument("--max-ensembles", type=int, default=None,
                        help="score only the first K of the C(N, S) ensembles (a throughput sample; the time is "
                             "then also extrapolated to all)")
    parser.add_argument("--iou-pass", default="auto", choices=("auto", "pruned", "dense"),
                        help="score_ensembles' iou_pass")
    parser.add_argument("--greedy", action="store_true",
                        help="greedy forward selection (ensembles.greedy_select) by the last of --metrics instead "
                             "of scoring every ensemble: the path for pools too large to enumerate")
    args = parser.parse_args()
    set_cpu_devices(args.cpu_devices)
    path = args.path or f"/tmp/eep_{args.N}_{args.n}_{args.C}.npy"
    if not os.path.exists(path + ".labels.npy"):
        start = time.perf_counter()
        # in a child process: the pages it writes through its memory map would count in this process's peak RSS
        writer = multiprocessing.get_context("spawn").Process(target=write_pool,
                                                              args=(path, args.N, args.n, args.C, args.seed))
        writer.start()
        writer.join()
        if writer.exitcode != 0:
            raise SystemExit(f"writing {path} failed (exit code {writer.exitcode})")
        print(f"wrote {path} ({os.path.getsize(path) / 2**30:.1f} GiB) in {time.perf_counter() - start:.0f} s", flush=True)
    import jax

    from transel_jax.ensembles import score_ensembles
    from transel_jax.ensembles.source import as_source

    labels = np.load(path + ".labels.npy")
    source = Timed(as_source(path))
    metrics = tuple(args.metrics.split(","))
    print(f"case: N={args.N} S={args.S} n={args.n:,} C={args.C} from {path} (float16 memmap, "
          f"{os.path.getsize(path) / 2**30:.1f} GiB); {len(jax.devices())} x {jax.devices()[0].device_kind}; "
          f"iou_pass: {args.iou_pass}", flush=True)
    if args.greedy:
        greedy(source, labels, args.S, metrics[-1], args.iou_pass)
        return
    from transel_jax.ensembles import all_ensembles

    members = all_ensembles(args.N, args.S)
    total = members.shape[0]
    if args.max_ensembles:
        members = members[:: max(1, total // args.max_ensembles)][: args.max_ensembles]
    start = time.perf_counter()
    result = score_ensembles(source, labels, ensembles=members, metrics=metrics, progress=True,
                             iou_pass=args.iou_pass)
    wall = time.perf_counter() - start
    if members.shape[0] < total:
        print(f"scored {members.shape[0]:,} of {total:,} ensembles (every {total // members.shape[0]}th); "
              f"linear extrapolation of the non-read time to all: {(wall - source.seconds) * total / members.shape[0]:.0f} s "
              f"(an upper bound: the per-chunk costs, top-K lists and transfers, do not grow with the ensembles)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print("| metrics | wall (s) | reading the memmap (s) | read (GiB, as float16) | peak RSS (GiB) |")
    print("|---|---|---|---|---|")
    print(f"| {', '.join(metrics)} | {wall:.0f} | {source.seconds:.0f} | {source.bytes / 2**30:.1f} | {peak:.2f} |")
    best = result.best(metrics[-1])
    print(f"best by {metrics[-1]}: {best.tolist()}")


def greedy(source, labels, size: int, metric: str, iou_pass: str) -> None:
    from transel_jax.ensembles import greedy_select

    start = time.perf_counter()
    result = greedy_select(source, labels, size, metric=metric, progress=True, iou_pass=iou_pass)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print("| greedy by | wall (s) | reading the memmap (s) | read (GiB, as float16) | peak RSS (GiB) |")
    print("|---|---|---|---|---|")
    print(f"| {metric} | {wall:.0f} | {source.seconds:.0f} | {source.bytes / 2**30:.1f} | {peak:.2f} |")
    print(f"chosen: {result.members.tolist()}, {metric} after each addition: {np.round(result.scores, 4).tolist()}")


if __name__ == "__main__":
    main()
