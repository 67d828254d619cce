"""Wall time of the feature-based transferability metrics at the papers' sizes; prints a table.

    python benchmarks/feature_metrics.py                       # n=150,000 pixels, D=720, C=20
    python benchmarks/feature_metrics.py --n 20000 --dim 270 --pairwise-n 1000
    python benchmarks/feature_metrics.py --only-ranking          # issue 15 item 5: PARC/RSA sort table

Inputs are synthetic (class-dependent Gaussian features, seeded), shaped like one source model's
sampled-pixel set: feats float32 [n, D] (HRNetV2-W48 features have D = 720), labels int32 [n] in 0..C-1.
As in paper 003, features are PCA-reduced to f dims before each metric; the O(n^2) metrics (PARC, RSA,
DDS, 1-NN) run on the first ``--pairwise-n`` rows, as a caller would subsample. "first call" includes
compilation; "steady" is the median of ``--repeats`` further calls on the same shapes, in wall seconds and
in process CPU seconds summed over threads (less sensitive to other jobs on a shared machine).

A second table compares the two ways PARC and RSA rank the n(n-1)/2 upper-triangle entries: in jnp
inside the kernel (host_rank=False, the only path before issue 15 item 5, and the one used when traced
or on accelerators) and on the host with numpy (host_rank=True, the default for concrete inputs on CPU).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time

import jax
import numpy as np
from tqdm import tqdm

from transel_jax.metrics import features as fm


def synthetic_features(n: int, dim: int, num_classes: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    centers = rng.normal(size=(num_classes, dim)).astype(np.float32)
    feats = centers[labels] + rng.normal(size=(n, dim)).astype(np.float32) * 2.0
    return feats, labels


def timed(fn, repeats: int):
    """(first-call wall s, median steady wall s, median steady process CPU s over all threads)."""
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn())
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return first, statistics.median(wall), statistics.median(cpu)


def cases(args, feats, labels):
    """(name, rows, dims, thunk) for every benchmarked call."""
    c = args.classes
    reduced = np.asarray(fm.pca_reduce(feats, args.pca_dims))
    sub, sub_labels = reduced[: args.pairwise_n], labels[: args.pairwise_n]
    reference = sub[:, ::-1] + np.random.default_rng(1).normal(size=sub.shape).astype(np.float32)
    n, f, m = len(labels), reduced.shape[1], len(sub_labels)
    return [
        ("pca_reduce", n, feats.shape[1], lambda: fm.pca_reduce(feats, args.pca_dims)),
        ("h_score", n, f, lambda: fm.h_score(reduced, labels, c)),
        ("shrinkage_h_score", n, f, lambda: fm.shrinkage_h_score(reduced, labels, c)),
        ("transrate", n, f, lambda: fm.transrate(reduced, labels, c)),
        ("nleep (5C comps, diag)", n, f, lambda: fm.nleep(reduced, labels, c, seed=0)),
        ("logme", n, f, lambda: fm.logme(reduced, labels, c)),
        ("logme (raw D)", n, feats.shape[1], lambda: fm.logme(feats, labels, c)),
        ("gbc diagonal", n, f, lambda: fm.gbc(reduced, labels, c)),
        ("gbc spherical", n, f, lambda: fm.gbc(reduced, labels, c, covariance="spherical")),
        ("logistic_probe_accuracy", n, f, lambda: fm.logistic_probe_accuracy(reduced, labels, c, seed=0)),
        ("parc", m, f, lambda: fm.parc(sub, sub_labels, c)),
        ("rsa", m, f, lambda: fm.rsa(sub, reference)),
        ("dds", m, f, lambda: fm.dds(sub, reference)),
        ("nn1_loo_accuracy", m, f, lambda: fm.nn1_loo_accuracy(sub, sub_labels, c)),
    ]


def ranking_cases(args, feats, labels):
    """(name, jnp-ranking thunk, host-ranking thunk) for the O(n^2) rank-based metrics."""
    c = args.classes
    reduced = np.asarray(fm.pca_reduce(feats[: args.pairwise_n], args.pca_dims))
    sub_labels = labels[: args.pairwise_n]
    reference = reduced[:, ::-1] + np.random.default_rng(1).normal(size=reduced.shape).astype(np.float32)
    return [
        ("parc", lambda h: fm.parc(reduced, sub_labels, c, host_rank=h)),
        ("rsa", lambda h: fm.rsa(reduced, reference, host_rank=h)),
    ]


def ranking_table(args, feats, labels):
    rows = []
    for name, thunk in ranking_cases(args, feats, labels):
        jnp_first, jnp_wall, jnp_cpu = timed(lambda: thunk(False), args.repeats)
        host_first, host_wall, host_cpu = timed(lambda: thunk(True), args.repeats)
        same = float(thunk(False)) == float(thunk(True))
        rows.append((name, jnp_wall, jnp_cpu, host_wall, host_cpu, same))
    m = args.pairwise_n
    print(f"\nRank-based metrics at n = {m} ({m * (m - 1) // 2} upper-triangle entries), median of {args.repeats} "
          "steady calls: before = jnp ranking (XLA sort), after = numpy ranking on the host")
    print(f"| {'metric':<8} | {'before wall (s)':>15} | {'before CPU (s)':>14} | {'after wall (s)':>14} | "
          f"{'after CPU (s)':>13} | {'speed-up':>8} | {'same score':>10} |")
    print(f"|{'-' * 10}|{'-' * 17}|{'-' * 16}|{'-' * 16}|{'-' * 15}|{'-' * 10}|{'-' * 12}|")
    for name, jw, jc, hw, hc, same in rows:
        print(f"| {name:<8} | {jw:>15.3f} | {jc:>14.3f} | {hw:>14.3f} | {hc:>13.3f} | {jw / hw:>7.1f}x | {str(same):>10} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=150_000, help="sampled pixels")
    parser.add_argument("--dim", type=int, default=720, help="feature channels D")
    parser.add_argument("--classes", type=int, default=20, help="target classes C")
    parser.add_argument("--pca-dims", type=int, default=32, help="f of the PCA reduction")
    parser.add_argument("--pairwise-n", type=int, default=2000, help="rows for the O(n^2) metrics")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only-ranking", action="store_true", help="only the PARC/RSA ranking table")
    args = parser.parse_args()

    feats, labels = synthetic_features(args.n, args.dim, args.classes, args.seed)
    if args.only_ranking:
        ranking_table(args, feats, labels)
        return
    rows = []
    for name, n, d, thunk in tqdm(cases(args, feats, labels), desc="metrics", unit="metric"):
        rows.append((name, n, d, *timed(thunk, args.repeats)))

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB
    print(f"\nFeature-metric timings: {jax.devices()[0].device_kind} ({jax.default_backend()}), "
          f"{len(jax.devices())} device(s), jax {jax.__version__}, {platform.processor() or platform.machine()}")
    print(f"synthetic inputs, seed {args.seed}, C = {args.classes}, PCA f = {args.pca_dims}, "
          f"median of {args.repeats} steady calls; produced by benchmarks/feature_metrics.py")
    print(f"load average at the end (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (the machine may be shared: compare CPU seconds)")
    print(f"| {'metric':<24} | {'n':>8} | {'D':>4} | {'first call (s)':>14} | {'steady (s)':>10} | {'steady CPU (s)':>14} |")
    print(f"|{'-' * 26}|{'-' * 10}|{'-' * 6}|{'-' * 16}|{'-' * 12}|{'-' * 16}|")
    for name, n, d, first, steady, cpu in rows:
        print(f"| {name:<24} | {n:>8} | {d:>4} | {first:>14.3f} | {steady:>10.3f} | {cpu:>14.3f} |")
    print(f"peak resident memory of the process: {peak_gb:.2f} GB")
    ranking_table(args, feats, labels)


if __name__ == "__main__":
    main()
