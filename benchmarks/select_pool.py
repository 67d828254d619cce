"""Wall time of `transel select`'s phases: a pool of tiny transel checkpoints on a 150-image 64x64 target.

    python benchmarks/select_pool.py                      # 16 models, medians of 3 warm runs, + the 64-model scoring
    python benchmarks/select_pool.py --models 16 --repeats 3 --big-models 64 --big-repeats 1

Part 1 runs the same library calls `transel select` makes, phase by phase, on a pool of `--models` tiny
checkpoints (resnet_tiny / hrnetv2_tiny, weights written directly, no training: speed does not depend on
the weights) and a synthetic 150-image 64x64 target written as a folder dataset: reading the label maps and
sampling (up to 1000 px per image), every model's forward pass at the sampled pixels, EEP, scoring all
C(N, 3) ensembles with the four ensemble metrics + BASE, the single-model suite, and writing the outputs.
The first run compiles (cold); the table reports the median of `--repeats` warm runs in the same process,
with the probe cache off so the forward pass is measured.

Part 2 scores the 64-model pool (41,664 ensembles of 3) from stored probe outputs: random source softmaxes
at the 150-image target's sampled pixels, EEP + all four ensemble metrics.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_force_host_platform_device_count={os.cpu_count() or 1}").strip()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

import numpy as np  # noqa: E402

ARCHS = ("resnet_tiny", "hrnetv2_tiny")
SOURCES = ("syn_drive_day", "syn_underwater_reef", "syn_aerial_urban", "syn_indoor_home", "syn_consumer_broad",
           "syn_drive_adverse", "syn_virtual_drive", "syn_consumer_objects")


def build_world(root: str, num_models: int) -> tuple[str, str]:
    import select_fixtures as sf
    from transel_jax.data import catalog

    pool = os.path.join(root, "pool")
    for i in range(num_models):
        sf.ARCH = ARCHS[i % 2]  # the fixture writes its module-level architecture
        sf.write_workdir(os.path.join(pool, f"m{i:02d}"), SOURCES[i % len(SOURCES)], i, 0.3 + 0.01 * i)
    train = catalog.load("syn_drive_small", "train", seed=0, resolution=64)
    target = sf.write_folder(os.path.join(root, "target"), "syn_drive_small", {"train": (train, 150)})
    return pool, target


def phases(pool: str, target: str, out: str, repeats: int) -> list[dict]:
    from transel_jax.data.probe_samples import draw_samples
    from transel_jax.ensembles import score_ensembles
    from transel_jax.metrics import base_terms, eep_stack
    from transel_jax.metrics.suite import single_scores
    from transel_jax.select import flow, outputs

    runs = []
    for r in range(repeats + 1):
        t = {}
        t0 = time.perf_counter()
        p = flow.plan(pool, target, size=3)
        train = flow.train_split(p.target)
        labels = [np.asarray(train[i]["label"], np.int32) for i in range(len(train))]
        sample, rows = draw_samples(labels, (0,), max_per_image=1000, feature_pixels=2000)[0]
        t["sampling"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        probs, feats = [], []
        for m in p.models:
            pr, ft = m.probe(train, sample, batch_size=8)
            probs.append(pr)
            feats.append(ft[rows])
        t["forward"] = time.perf_counter() - t0
        y = sample.class_index
        t0 = time.perf_counter()
        eep = np.asarray(eep_stack(probs, y, p.target.info.num_classes))
        t["eep"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        facts = [m.base_terms() for m in p.models]
        terms = base_terms(*zip(*facts))
        scores = score_ensembles(eep, y, 3, metrics=p.metrics, base_terms=terms,
                                 source_names=[m.name for m in p.models], progress=False)
        t["scoring"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        singles = single_scores(probs, y, feats, y[rows], p.target.info.num_classes, depth=None, source_size=None,
                                target_size=len(train), pca_dims=32)
        t["singles"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        probes = flow.Probes(sample=sample, feature_rows=rows, probs=probs, feats=feats, probed=[])
        sel = flow.Selection(plan=p, names=[m.name for m in p.models], scores=scores, singles=singles,
                             probes=probes, searched=False, out=out)
        outputs.write(sel, out)
        t["report"] = time.perf_counter() - t0
        t["total"] = sum(t.values())
        t["pixels"] = len(sample)
        runs.append(t)
        print(f"run {r} ({'cold' if r == 0 else 'warm'}): " + ", ".join(f"{k} {v:.2f}" for k, v in t.items()),
              flush=True)
    return runs


def big_scoring(num_models: int, repeats: int, pixels: int, num_classes: int = 10) -> list[float]:
    from transel_jax.ensembles import score_ensembles
    from transel_jax.metrics import eep_stack

    rng = np.random.default_rng(0)
    y = rng.integers(0, num_classes, pixels)
    probs = []
    for s in range(num_models):
        z = rng.normal(size=(pixels, 8 + s % 5)).astype(np.float32) * 2
        probs.append(np.exp(z) / np.exp(z).sum(-1, keepdims=True))
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        eep = np.asarray(eep_stack(probs, y, num_classes))
        score_ensembles(eep, y, 3, metrics=("ms_leep", "e_leep", "iou_eep", "soft_iou_eep"), progress=False)
        times.append(time.perf_counter() - t0)
        print(f"64-model scoring run {r}: {times[-1]:.1f} s", flush=True)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-models", type=int, default=64)
    ap.add_argument("--big-repeats", type=int, default=1)
    args = ap.parse_args()
    import jax

    with tempfile.TemporaryDirectory() as root:
        pool, target = build_world(root, args.models)
        runs = phases(pool, target, os.path.join(root, "out"), args.repeats)
    warm = runs[1:]
    keys = ("sampling", "forward", "eep", "scoring", "singles", "report", "total")
    print(f"\n{args.models}-model pool, 150-image 64x64 target, {int(warm[0]['pixels']):,} sampled pixels, "
          f"{jax.device_count()} XLA devices ({jax.devices()[0].platform}); median of {len(warm)} warm runs (cold run)")
    print("| phase | warm (s) | cold (s) |\n|---|---|---|")
    for k in keys:
        print(f"| {k} | {np.median([r[k] for r in warm]):.2f} | {runs[0][k]:.2f} |")
    if args.big_models:
        times = big_scoring(args.big_models, args.big_repeats, int(warm[0]["pixels"]))
        print(f"\n{args.big_models}-model pool from stored probe outputs ({int(warm[0]['pixels']):,} pixels, C=10): "
              f"EEP + all four ensemble metrics for C({args.big_models}, 3) ensembles: median "
              f"{np.median(times):.1f} s over {len(times)} run(s)")


if __name__ == "__main__":
    main()
