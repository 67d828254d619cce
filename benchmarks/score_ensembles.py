"""Benchmark: the batched all-ensembles scorer against a per-ensemble numpy loop.

On CPU the engine shards ensembles over one XLA device per core (--cpu-devices, default: all cores),
which must be set before jax is imported; this script does that.

Headline case of the papers: N=64 sources, S=3 (41,664 ensembles), n=150,000 sampled pixels, C=20.
Prints, per metric: the engine's wall time (median of --repeats runs, after one warm-up run that
compiles), the numpy loop's time (timed on --loop-sample ensembles and extrapolated to all, stated as
such), their ratio, and the process's peak resident memory.

    python benchmarks/score_ensembles.py                       # the headline case
    python benchmarks/score_ensembles.py --n 1000000 --C 134   # a 1,000-image, 134-class target
    python benchmarks/score_ensembles.py --n 20000 --repeats 1 # a quick look
"""
from __future__ import annotations

import argparse
import math
import resource
import statistics
import time

import numpy as np
from cases import add_case_arguments, set_cpu_devices


def synthetic_pool(num_sources: int, num_pixels: int, num_classes: int, seed: int):
    """EEP-like predictions whose quality varies by source: softmax(quality_s * onehot(y) + noise)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, num_pixels).astype(np.int32)
    quality = rng.uniform(0.0, 3.0, num_sources).astype(np.float32)
    eep = np.empty((num_sources, num_pixels, num_classes), np.float32)
    for s in range(num_sources):
        logits = rng.standard_normal((num_pixels, num_classes), dtype=np.float32)
        logits[np.arange(num_pixels), labels] += quality[s]
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        eep[s] = logits
    return eep, labels


def peaked_pool(num_sources: int, num_pixels: int, num_classes: int, seed: int):
    """Trained-model-like EEP: per source an accuracy a_s in [0.45, 0.9]; at each pixel the source predicts
    the true class with probability a_s, else another class uniformly; softmax(noise + boost on the
    predicted class), boost uniform in [3, 7] per pixel."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, num_pixels).astype(np.int32)
    accuracy = rng.uniform(0.45, 0.9, num_sources)
    eep = np.empty((num_sources, num_pixels, num_classes), np.float32)
    rows = np.arange(num_pixels)
    for s in range(num_sources):
        wrong = rng.random(num_pixels) >= accuracy[s]
        other = (labels + rng.integers(1, num_classes, num_pixels)) % num_classes
        predicted = np.where(wrong, other, labels)
        logits = rng.standard_normal((num_pixels, num_classes), dtype=np.float32)
        logits[rows, predicted] += rng.uniform(3.0, 7.0, num_pixels).astype(np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        eep[s] = logits
    return eep, labels


POOLS = {"random": synthetic_pool, "peaked": peaked_pool}


# --- the per-ensemble numpy loop (the baseline the engine must beat) ---------------------------------

# The LEEP-type loops get q[s, i] = p_s(y_i | x_i) precomputed once ([N, n]), as a careful numpy user
# would; the IoU-type loops need each ensemble's whole [n, C] average.

def loop_ms_leep(q, eep, labels, members):
    return np.log(np.maximum(q[members], 1e-12)).mean(axis=1).sum()


def loop_e_leep(q, eep, labels, members):
    return np.mean(np.log(np.maximum(q[members].mean(axis=0), 1e-12)))


def _confusion_iou(labels, pred, num_classes, weights=None):
    conf = np.bincount(labels * num_classes + pred, weights=weights, minlength=num_classes**2)
    return conf.reshape(num_classes, num_classes)


def loop_iou_eep(q, eep, labels, members):
    c = eep.shape[2]
    conf = _confusion_iou(labels, eep[members].mean(axis=0).argmax(axis=1), c)
    tp = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - tp
    return np.mean(tp[union > 0] / union[union > 0])


def loop_soft_iou_eep(q, eep, labels, members):
    c = eep.shape[2]
    p = eep[members].mean(axis=0)
    pred = p.argmax(axis=1)
    q = p[np.arange(labels.size), labels]
    right = pred == labels
    tp = np.bincount(labels[right], q[right], minlength=c)
    fn = np.bincount(labels[~right], 1 - q[~right], minlength=c)
    fp = np.bincount(pred[~right], 1 - q[~right], minlength=c)
    den = tp + fp + fn
    return np.mean(tp[den > 0] / den[den > 0])


LOOPS = {"ms_leep": loop_ms_leep, "e_leep": loop_e_leep, "iou_eep": loop_iou_eep,
         "soft_iou_eep": loop_soft_iou_eep}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_case_arguments(parser)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per metric (median reported)")
    parser.add_argument("--loop-sample", type=int, default=100, help="ensembles timed in the numpy loop")
    parser.add_argument("--memory-budget-mb", type=int, default=1024)
    parser.add_argument("--pool", choices=sorted(POOLS), default="random",
                        help="random: the original synthetic inputs; peaked: trained-model-like (see peaked_pool)")
    args = parser.parse_args()
    set_cpu_devices(args.cpu_devices)
    import jax

    from transel_jax.ensembles import all_ensembles, score_ensembles
    from transel_jax.provenance import versions

    num_ens = math.comb(args.N, args.S)
    print(f"case: N={args.N} S={args.S} -> {num_ens:,} ensembles, n={args.n:,} pixels, C={args.C}; "
          f"devices: {len(jax.devices())} x {jax.devices()[0].device_kind} ({jax.default_backend()}); "
          f"versions: {versions()}")
    t0 = time.perf_counter()
    eep, labels = POOLS[args.pool](args.N, args.n, args.C, args.seed)
    print(f"inputs ({args.pool}): eep {eep.nbytes / 2**20:,.0f} MiB generated in {time.perf_counter() - t0:.1f} s (seed {args.seed})")
    ensembles = all_ensembles(args.N, args.S)
    sample = ensembles[np.random.default_rng(args.seed).choice(num_ens, min(args.loop_sample, num_ens), replace=False)]

    def engine(metrics):
        kw = dict(metrics=metrics, memory_budget=args.memory_budget_mb << 20, progress=False)
        # warm-up on a slice of the pixels: chunk and ensemble shapes do not depend on n, so this compiles
        # every kernel the timed runs use
        score_ensembles(eep[:, : 4 * 1024], labels[: 4 * 1024], args.S, **kw)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            score_ensembles(eep, labels, args.S, **kw)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    loop_times = {}
    start = time.perf_counter()
    q = np.take_along_axis(eep, labels[None, :, None], axis=2)[..., 0]
    q_time = time.perf_counter() - start  # charged once to each LEEP-type loop, which needs it
    for name, loop in LOOPS.items():
        start = time.perf_counter()
        for members in sample:
            loop(q, eep, labels, members)
        loop_times[name] = (time.perf_counter() - start) / len(sample) * num_ens
        loop_times[name] += q_time if name in ("ms_leep", "e_leep") else 0.0
        print(f"  numpy loop {name}: {loop_times[name]:.1f} s (extrapolated)", flush=True)
    # MS-LEEP and E-LEEP alone have their own cheap paths; IoU-EEP and SoftIoU-EEP come from one shared
    # pass over the pixels (which also yields E-LEEP), so asking for either or both costs the same.
    engine_times = {"ms_leep": engine(("ms_leep",)), "e_leep": engine(("e_leep",))}
    print(f"  engine ms_leep {engine_times['ms_leep']:.2f} s, e_leep {engine_times['e_leep']:.2f} s", flush=True)
    shared = engine(tuple(LOOPS))
    engine_times.update(iou_eep=shared, soft_iou_eep=shared)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    print()
    print(f"| metric | engine (s, median of {args.repeats}) | numpy loop (s, extrapolated from {len(sample)} ensembles) | loop / engine |")
    print("|---|---|---|---|")
    for name in LOOPS:
        note = " (shared IoU pass)" if name in ("iou_eep", "soft_iou_eep") else ""
        print(f"| {name}{note} | {engine_times[name]:.2f} | {loop_times[name]:.1f} | "
              f"{loop_times[name] / engine_times[name]:.1f}x |")
    loops_total = sum(loop_times.values())
    print(f"| all four, one call | {shared:.2f} | {loops_total:.1f} | {loops_total / shared:.1f}x |")
    print(f"| MS-LEEP + E-LEEP, two calls | {engine_times['ms_leep'] + engine_times['e_leep']:.2f} | "
          f"{loop_times['ms_leep'] + loop_times['e_leep'] - q_time:.1f} | |")
    print(f"\n(the LEEP-type loops include {q_time:.2f} s, once, to extract q[s, i] = p_s(y_i | x_i))")
    print(f"\npeak resident memory of this process (inputs included): {peak:.2f} GiB")


if __name__ == "__main__":
    main()
