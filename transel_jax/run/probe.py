"""Stage ``probe``: class-balanced pixel samples of each target and every source model's outputs there.

Per target and probe seed k, :func:`transel_jax.data.probe_samples.draw_samples` draws up to
``probe.max_per_image`` pixels per image of the target training subset (the 150 images the fine-tunes
use), class-balanced, and the feature metrics' subset of at most ``probe.feature_pixels`` of them.

Every *source* model (the pool checkpoints, in their own label spaces) runs once over the union of all
seeds' samples (:func:`transel_jax.transfer.predict_at_pixels`), and the result is split by seed.
Files per target: ``probe/<T>/samples.npz`` (``image_k``, ``row_k``, ``col_k``, ``labels_k`` int32 [n_k]
and ``feature_rows_k`` int [f_k] for every seed k) and ``probe/<T>/<source id>.npz`` (``probs_k`` float32
[n_k, Z_s] and ``feats_k`` float32 [f_k, D_s]).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
from tqdm.auto import tqdm

from transel_jax.data import pipeline
from transel_jax.data.probe_samples import draw_samples, union
from transel_jax.data.sampling import PixelSample
from transel_jax.run import datasets, hosts, plan, pool
from transel_jax.run.stage import Context, read_npz, write_npz


def save_samples(path: str, samples: dict) -> None:
    arrays = {}
    for seed, (sample, rows) in samples.items():
        arrays.update({f"{f}_{seed}": getattr(sample, f) for f in PixelSample._fields})
        arrays[f"feature_rows_{seed}"] = rows
    write_npz(path, **arrays)


def load_sample(ctx: Context, target: str, seed: int) -> tuple[PixelSample, np.ndarray]:
    data = read_npz(ctx.path("probe", target, "samples.npz"))
    return PixelSample(*(data[f"{f}_{seed}"] for f in PixelSample._fields)), data[f"feature_rows_{seed}"]


def load_outputs(ctx: Context, target: str, source_id: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(probs float32 [n, Z_s], feats float32 [f, D_s]) of one source on one target's seed-k sample."""
    data = read_npz(ctx.path("probe", target, f"{source_id}.npz"))
    return data[f"probs_{seed}"], data[f"feats_{seed}"]


@dataclasses.dataclass
class _Target:
    """What probing one target needs: its training subset, the samples of every seed and their union."""

    info: object
    train: object
    samples: dict
    both: PixelSample
    offsets: np.ndarray


def prepare_target(ctx: Context, target: str) -> _Target:
    """Draw the target's samples (deterministic in the probe seeds) and write ``samples.npz``: the main host
    writes it; with several hosts the others draw the same samples for their share of the sources."""
    config, probe = ctx.config, ctx.config.probe
    info = datasets.info(config, target)
    train = pipeline.target_subset(datasets.split(config, target, "train"), info)
    # one [H_i, W_i] map per image: real datasets' images differ in size, so they are not stacked
    labels = [np.asarray(train[i]["label"], np.int32) for i in range(len(train))]
    samples = draw_samples(labels, probe.seeds, max_per_image=probe.max_per_image,
                           feature_pixels=probe.feature_pixels)
    if hosts.is_main():
        save_samples(ctx.path(ctx.dir("probe", target), "samples.npz"), samples)
    both, offsets = union(s for s, _ in samples.values())
    return _Target(info, train, samples, both, offsets)


def probe_source(ctx: Context, target: str, prepared: _Target, source: dict) -> None:
    """Write ``probe/<target>/<source id>.npz`` (skipped when it exists: an interrupted run resumes)."""
    from transel_jax.models import build
    from transel_jax.train.checkpoint import load_variables
    from transel_jax.transfer import predict_at_pixels

    path = ctx.path(ctx.dir("probe", target), f"{source['id']}.npz")
    if os.path.isfile(path):
        return
    variables, meta = load_variables(pool.checkpoint(ctx, source["id"]))
    model = build(meta["model"], meta["num_classes"])
    probs, feats = predict_at_pixels(model, variables, prepared.train, prepared.both,
                                     batch_size=ctx.config.data.eval_batch_size, info=prepared.info)
    arrays = {}
    for k, (seed, (_, rows)) in enumerate(prepared.samples.items()):
        part = slice(prepared.offsets[k], prepared.offsets[k + 1])
        arrays[f"probs_{seed}"], arrays[f"feats_{seed}"] = probs[part], feats[part][rows]
    write_npz(path, **arrays)


def probe_target(ctx: Context, target: str, sources: list[dict]) -> int:
    """Samples and every source's outputs on one target (one host); returns the pixels of all seeds."""
    prepared = prepare_target(ctx, target)
    for source in tqdm(sources, desc=f"probe {target}", unit="model", leave=False):
        probe_source(ctx, target, prepared, source)
    return int(prepared.offsets[-1])


def run_probe(ctx: Context) -> dict:
    sources, targets = pool.sources(ctx), plan.check_targets(ctx.config)
    if hosts.count() == 1:
        pixels = [hosts.relieved(probe_target, ctx, t, sources) for t in tqdm(targets, desc="probe", unit="target")]
    else:  # the (target, source) pairs divided among the hosts; the main host writes every samples.npz
        prepared = {t: prepare_target(ctx, t) for t in targets}
        mine = hosts.share([(t, s) for t in targets for s in sources])
        for target, source in tqdm(mine, desc="probe", unit="model"):
            hosts.relieved(probe_source, ctx, target, prepared[target], source)
        hosts.barrier("probe")
        pixels = [int(prepared[t].offsets[-1]) for t in targets]
    return {"targets": len(pixels), "seeds": len(ctx.config.probe.seeds),
            "pixels_per_seed": float(np.mean(pixels)) / len(ctx.config.probe.seeds)}


def line(summary: dict) -> str:
    return (f"{summary['seeds']} probe seeds x {summary['targets']} targets, "
            f"~{summary['pixels_per_seed']:.0f} sampled pixels per seed")
