"""Stage ``influence``: factors of influence (papers/002): transfer gains and domain distances.

- Relative transfer gain (002 Eq. 2): ``r(T | S) = 100 * (m(T | S) / m(T | generic) - 1)`` with m the
  fine-tuned test mIoU on target T starting from the source model of dataset S (architecture
  ``influence.architecture``, init ``influence.init``), against fine-tuning the generic model of that
  architecture (the stand-in for ImageNet pre-training). Models the ``finetune`` stage did not fine-tune
  (when the correlation study keeps only some candidates, and always the generic model) are fine-tuned
  here into ``finetune/`` with the same recipe (:func:`.finetunes.finetune_one`).
- Domain distance D(T | S) (002 Eq. 1, Tab. 10): image vectors are the generic model's backbone features
  average-pooled over space (:func:`transel_jax.transfer.image_features.image_vectors`), for the first ``influence.images`` training images of every dataset (all
  normalised with the generic dataset's statistics, as one feature extractor sees them); all four
  assignment variants of :mod:`transel_jax.analysis.domain_distance`.
- How well each distance predicts the gains: Kendall tau between ``-D`` and ``r`` over all (T, S) pairs
  (a nearer source should give a larger gain), and the mean over targets of the per-target tau.

``influence/results.json``: targets, sources, gain [T][S], baseline [T], distance {assignment: [T][S]},
tau {assignment: {"pooled", "per_target_mean"}}.
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from transel_jax.analysis import ASSIGNMENTS, distance_matrix, relative_transfer_gain
from transel_jax.evaluation import kendall_tau
from transel_jax.run import datasets, finetunes, hosts, plan, pool
from transel_jax.run.stage import Context, read_json, write_json


def _kendall(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall tau; 0 ("no ranking information") when a side is constant or has one entry."""
    return kendall_tau(a, b) if a.size > 1 and np.ptp(a) > 0 and np.ptp(b) > 0 else 0.0


def _tau(gain: np.ndarray, distance: np.ndarray) -> dict:
    """Kendall tau of (gain, -distance) pooled over every (T, S) pair and per target; NaN gains (a target's
    own dataset as source) are left out."""
    known = np.isfinite(gain)
    rows = [_kendall(g[k], -d[k]) for g, d, k in zip(gain, distance, known)]
    return {"pooled": _kendall(gain[known], -distance[known]), "per_target_mean": float(np.mean(rows))}


def run_influence(ctx: Context) -> dict:
    from transel_jax.models import build
    from transel_jax.train.checkpoint import load_variables
    from transel_jax.transfer.image_features import image_vectors

    config, inf = ctx.config, ctx.config.influence
    if "generic" not in config.pool.inits:
        raise ValueError("config.pool.inits: the influence study needs the 'generic' init (its baseline)")
    targets, sources = plan.check_targets(config), list(config.pool.datasets)
    generic = plan.SourceSpec(config.pool.generic_dataset, inf.architecture, plan.PRETRAIN)
    models = [plan.SourceSpec(s, inf.architecture, inf.init).id for s in sources]
    # with targets.leave_target_out a target's own source model is not fine-tuned on it (NaN in the matrix)
    pairs = [(t, m) for t in targets for s, m in zip(sources, models) if s != t] + [(t, generic.id) for t in targets]
    def tune(pair) -> float:
        return finetunes.finetune_one(ctx, pair[0], finetunes.pool_record(ctx, pair[1]))["test_miou"]

    with tqdm(total=len(hosts.share(pairs)), desc="influence fine-tunes", unit="model") as bar:
        tuned = dict(zip(pairs, hosts.each(tune, pairs, "influence fine-tunes", bar=bar)))  # divided among hosts
    if not hosts.is_main():  # the main host computes the distances and writes the results
        hosts.barrier("influence results")
        return _summary(load(ctx))
    gains_m = np.array([[tuned.get((t, m), np.nan) for m in models] for t in targets])
    baseline = np.array([tuned[t, generic.id] for t in targets])
    gain = np.full(gains_m.shape, np.nan)
    known = np.isfinite(gains_m)
    gain[known] = relative_transfer_gain(gains_m[known], np.broadcast_to(baseline[:, None], gains_m.shape)[known])

    variables, meta = load_variables(pool.checkpoint(ctx, generic.id))
    model = build(meta["model"], meta["num_classes"])
    norm = datasets.info(config, config.pool.generic_dataset)
    vectors = {}
    for name in tqdm(list(dict.fromkeys(targets + sources)), desc="domain features", unit="dataset"):
        source = datasets.split(config, name, "train", inf.images)
        vectors[name] = image_vectors(model, variables, source, norm, batch_size=config.data.eval_batch_size)
    distance = {a: distance_matrix(vectors, targets, sources, a) for a in ASSIGNMENTS}
    tau = {a: _tau(gain, d) for a, d in distance.items()}
    write_json(ctx.path("influence", "results.json"),
               {"targets": targets, "sources": sources, "architecture": inf.architecture, "init": inf.init,
                "gain": gain, "miou": gains_m, "baseline": baseline,
                "distance": {a: d for a, d in distance.items()}, "tau": tau})
    hosts.barrier("influence results")
    return _summary(load(ctx))


def _summary(results: dict) -> dict:
    gain = np.array(results["gain"], np.float64)
    return {"targets": len(results["targets"]), "sources": len(results["sources"]),
            "mean_gain": float(np.nanmean(gain)), "tau_target_to_source": results["tau"]["target_to_source"]["pooled"]}


def line(summary: dict) -> str:
    return (f"gain matrix {summary['targets']}x{summary['sources']}, mean gain {summary['mean_gain']:+.1f}%; "
            f"Kendall tau(-D target->source, gain) {summary['tau_target_to_source']:+.3f}")


def load(ctx: Context) -> dict:
    return read_json(ctx.path("influence", "results.json"))
