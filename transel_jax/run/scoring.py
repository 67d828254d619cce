"""Stage ``scoring``: transferability scores from the probe outputs (nothing is fine-tuned here).

Per target and probe seed:

- ensembles: the source probabilities are mapped into the target label space by EEP
  (:func:`transel_jax.metrics.eep_stack`, [N, n, C]) and every C(N, S) ensemble is scored by the batched
  engine (:func:`transel_jax.ensembles.score_ensembles`) with MS-LEEP, E-LEEP, IoU-EEP, SoftIoU-EEP and
  BASE (per-source P_s N_s C_s from the pool records);
- single models: :func:`transel_jax.metrics.suite.single_scores` (LEEP and NCE from the probabilities;
  LogME, H-Score, GBC and PARC on the features PCA-reduced to ``probe.pca_dims``; the heuristic; the
  +depth calibration of every one of them).

``scoring/<T>/seed<k>.npz`` holds ``ensembles`` [E, S] (indices into pool/sources.json), ``ens_<metric>``
float64 [E] and ``single_<metric>`` float64 [N] (higher is better for every metric). With
``targets.leave_target_out`` only the target's candidates (:func:`transel_jax.run.plan.candidates_for`) are
scored; the others' single scores are NaN.

With several hosts (``transel run --distributed``) the (target, seed) jobs are divided among them
(:func:`transel_jax.run.hosts.each`); a job whose file exists is read back, not recomputed, so an
interrupted stage resumes where it stopped.
"""
from __future__ import annotations

import os

import numpy as np
from tqdm.auto import tqdm

from transel_jax.metrics.suite import SINGLE, single_scores
from transel_jax.run import datasets, hosts, plan, pool, probe
from transel_jax.run.stage import Context, read_npz, write_npz

ENSEMBLE = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base")


def score_target(ctx: Context, target: str, seed: int, sources: list[dict]) -> dict:
    """The arrays of ``scoring/<target>/seed<seed>.npz``: computed and written, or read if the file exists."""
    from transel_jax.ensembles import score_ensembles
    from transel_jax.metrics import base_terms, eep_stack

    path = ctx.path(ctx.dir("scoring", target), f"seed{seed}.npz")
    if os.path.isfile(path):
        return read_npz(path)
    config = ctx.config
    info = datasets.info(config, target)
    allowed = plan.candidates_for(config, target, sources)  # indices into sources (pool/sources.json)
    mine = [sources[i] for i in allowed]
    sample, rows = probe.load_sample(ctx, target, seed)
    y = sample.class_index
    outputs = [probe.load_outputs(ctx, target, s["id"], seed) for s in mine]
    probs = [p for p, _ in outputs]
    eep = np.asarray(eep_stack(probs, y, info.num_classes))
    terms = base_terms([s["test_miou"] for s in mine], [s["num_images"] for s in mine],
                       [s["num_classes"] for s in mine])
    result = score_ensembles(eep, y, config.probe.ensemble_size, metrics=ENSEMBLE, base_terms=terms,
                             source_names=[s["id"] for s in mine], progress=False)
    singles = single_scores(probs, y, [f for _, f in outputs], y[rows], info.num_classes,
                            depth=np.array([s["depth"] for s in mine], np.float64),
                            source_size=np.array([s["num_images"] for s in mine], np.float64),
                            target_size=info.target_train_size, pca_dims=config.probe.pca_dims)
    arrays = {"ensembles": allowed[result.ensembles].astype(result.ensembles.dtype), **{f"ens_{m}": result.scores[m] for m in ENSEMBLE},
              **{f"single_{m}": _spread(v, allowed, len(sources)) for m, v in singles.items()}}
    write_npz(path, **arrays)
    return arrays


def _spread(values: np.ndarray, allowed: np.ndarray, num_sources: int) -> np.ndarray:
    """float64 [N]: ``values`` at the ``allowed`` sources, NaN at the sources left out for this target."""
    out = np.full(num_sources, np.nan)
    out[allowed] = values
    return out


def run_scoring(ctx: Context) -> dict:
    sources = pool.sources(ctx)
    jobs = [(t, int(s)) for t in plan.check_targets(ctx.config) for s in ctx.config.probe.seeds]
    with tqdm(total=len(hosts.share(jobs)), desc="scoring", unit="target x seed") as bar:
        # several hosts: each scores its share, then all read every file
        arrays = hosts.each(lambda job: score_target(ctx, *job, sources), jobs, "scoring", bar=bar)[-1]
    return {"jobs": len(jobs), "ensembles": int(arrays["ensembles"].shape[0]), "single_metrics": len(SINGLE)}


def line(summary: dict) -> str:
    return (f"{summary['ensembles']} ensembles x {len(ENSEMBLE)} metrics and {summary['single_metrics']} "
            f"single-model metrics, {summary['jobs']} target x seed")


def load(ctx: Context, target: str, seed: int) -> dict:
    return read_npz(ctx.path("scoring", target, f"seed{seed}.npz"))
