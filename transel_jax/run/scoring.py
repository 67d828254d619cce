"""Stage ``scoring``: transferability scores from the probe outputs (nothing is fine-tuned here).

Per target and probe seed:

- ensembles: the source probabilities are mapped into the target label space by EEP
  (:func:`transel_jax.metrics.eep_stack`, [N, n, C]) and every C(N, S) ensemble is scored by the batched
  engine (:func:`transel_jax.ensembles.score_ensembles`) with MS-LEEP, E-LEEP, IoU-EEP, SoftIoU-EEP and
  BASE (per-source P_s N_s C_s from the pool records);
- single models: LEEP and NCE from the probabilities; LogME, H-Score, GBC and PARC on the features
  PCA-reduced to ``probe.pca_dims`` (003 Sec. 4); the depth-and-size heuristic (003 eq. 4); and the
  +depth calibration (003 eq. 6) of every one of them.

``scoring/<T>/seed<k>.npz`` holds ``ensembles`` [E, S], ``ens_<metric>`` float64 [E] and
``single_<metric>`` float64 [N] (higher is better for every metric).
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from transel_jax.run import datasets, plan, pool, probe
from transel_jax.run.stage import Context, read_npz, write_npz

ENSEMBLE = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base")
PROBABILITY = ("leep", "nce")
FEATURE = ("logme", "h_score", "gbc", "parc")
SINGLE = PROBABILITY + FEATURE + ("heuristic",) + tuple(f"{m}+depth" for m in PROBABILITY + FEATURE)


def single_scores(probs, labels, feats, feature_labels, num_classes: int, *, depth, source_size,
                  target_size: int, pca_dims: int) -> dict[str, np.ndarray]:
    """{metric: float64 [N]} for N sources (module docstring).

    Args:
      probs: N arrays [n, Z_s] (source softmax at the sampled pixels); labels: int [n] in 0..C-1.
      feats: N arrays [f, D_s] (source features at the feature subset); feature_labels: int [f].
      depth, source_size: [N] layers with weights and source training images; target_size: images.
    """
    from transel_jax.metrics import leep, nce
    from transel_jax.metrics import features as fm

    y, yf = labels, feature_labels
    out = {"leep": [float(leep(p, y, num_classes)) for p in probs],
           "nce": [float(nce(p, y, num_classes)) for p in probs]}
    reduced = [np.asarray(fm.pca_reduce(f, pca_dims)) for f in feats]
    out["logme"] = [float(fm.logme(z, yf, num_classes)) for z in reduced]
    out["h_score"] = [float(fm.h_score(z, yf, num_classes)) for z in reduced]
    out["gbc"] = [float(fm.gbc(z, yf, num_classes)) for z in reduced]
    out["parc"] = [float(fm.parc(z, yf, num_classes)) for z in reduced]
    out = {k: np.asarray(v, np.float64) for k, v in out.items()}
    out["heuristic"] = np.asarray(fm.heuristic_score(depth, source_size, target_size), np.float64)
    for m in PROBABILITY + FEATURE:
        out[f"{m}+depth"] = np.asarray(fm.depth_calibrate(out[m], depth), np.float64)
    return out


def score_target(ctx: Context, target: str, seed: int, sources: list[dict]) -> dict:
    from transel_jax.ensembles import score_ensembles
    from transel_jax.metrics import base_terms, eep_stack

    config = ctx.config
    info = datasets.info(config, target)
    sample, rows = probe.load_sample(ctx, target, seed)
    y = sample.class_index
    outputs = [probe.load_outputs(ctx, target, s["id"], seed) for s in sources]
    probs = [p for p, _ in outputs]
    eep = np.asarray(eep_stack(probs, y, info.num_classes))
    terms = base_terms([s["test_miou"] for s in sources], [s["num_images"] for s in sources],
                       [s["num_classes"] for s in sources])
    result = score_ensembles(eep, y, config.probe.ensemble_size, metrics=ENSEMBLE, base_terms=terms,
                             source_names=[s["id"] for s in sources], progress=False)
    singles = single_scores(probs, y, [f for _, f in outputs], y[rows], info.num_classes,
                            depth=np.array([s["depth"] for s in sources], np.float64),
                            source_size=np.array([s["num_images"] for s in sources], np.float64),
                            target_size=info.target_train_size, pca_dims=config.probe.pca_dims)
    arrays = {"ensembles": result.ensembles, **{f"ens_{m}": result.scores[m] for m in ENSEMBLE},
              **{f"single_{m}": v for m, v in singles.items()}}
    write_npz(ctx.path(ctx.dir("scoring", target), f"seed{seed}.npz"), **arrays)
    return arrays


def run_scoring(ctx: Context) -> dict:
    sources = pool.sources(ctx)
    jobs = [(t, int(s)) for t in plan.check_targets(ctx.config) for s in ctx.config.probe.seeds]
    for target, seed in tqdm(jobs, desc="scoring", unit="target x seed"):
        arrays = score_target(ctx, target, seed, sources)
    return {"jobs": len(jobs), "ensembles": int(arrays["ensembles"].shape[0]), "single_metrics": len(SINGLE)}


def line(summary: dict) -> str:
    return (f"{summary['ensembles']} ensembles x {len(ENSEMBLE)} metrics and {summary['single_metrics']} "
            f"single-model metrics, {summary['jobs']} target x seed")


def load(ctx: Context, target: str, seed: int) -> dict:
    return read_npz(ctx.path("scoring", target, f"seed{seed}.npz"))
