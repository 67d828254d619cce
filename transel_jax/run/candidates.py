"""Stage ``candidates``: which source models each target fine-tunes for the correlation study (000 Sec. 4.1).

Scoring is cheap and covers every C(N, S) ensemble of the whole pool; fine-tuning is not, and neither is the
actual mIoU of tens of thousands of ensembles. So, as 000 Sec. 4.1 does (N = 64 -> 15 candidates, 455
ensembles per target), each target keeps ``probe.candidates`` source models:

- the ``probe.good_candidates`` *good* ones: the models that occur most often in the top
  ``probe.top_ensembles`` ensembles of each ensemble metric (MS-LEEP, E-LEEP, IoU-EEP, SoftIoU-EEP; scores of
  the first probe seed). The paper says "the 5 most frequent models in the top-ranked ensembles across all
  metrics" without the depth of "top-ranked"; ``top_ensembles`` makes it explicit. Ties in frequency go to
  the model whose best rank is better, then to pool order;
- and the rest drawn uniformly at random (without replacement) from the remaining models, with the
  generator seeded by ``(config.seed, the target's index in targets.datasets)``.

``probe.candidates = 0`` (or at least N) keeps the whole pool, as the demo does. ``candidates/kept.json``:
``{target: [source id, ...]}`` in pool order. The stage is content-addressed (its ``digest`` is that
mapping): when a probe change recomputes it but the kept lists are the same, the fine-tunes after it stay
cached.
"""
from __future__ import annotations

import numpy as np

from transel_jax import checks
from transel_jax.run import plan, pool, scoring
from transel_jax.run.stage import Context, read_json, write_json

GOOD_FROM = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep")


def choose(scores: dict, ensembles: np.ndarray, num_sources: int, *, keep: int, good: int, top: int,
           seed, allowed=None) -> np.ndarray:
    """int [K] sorted indices of the kept sources (module docstring).

    Args:
      scores: {metric: float [E]} for the metrics of GOOD_FROM (higher is better).
      ensembles: int [E, S] member indices of the scored ensembles.
      num_sources: N, the pool size.
      keep: K, the number kept (0 or >= N: all); good: how many are picked by the metrics; top: how many
        top-ranked ensembles of each metric vote; seed: for ``np.random.default_rng`` (int or sequence).
      allowed: int [N_T] the sources this target may keep (default all N; with ``targets.leave_target_out``
        the models not trained on the target); the scored ensembles draw their members from them.
    """
    checks.check_positive_int(num_sources, "num_sources")
    for value, name in ((keep, "keep"), (good, "good"), (top, "top")):
        if int(value) < 0:
            raise ValueError(f"{name}: expected a non-negative int, got {value}")
    allowed = np.arange(num_sources) if allowed is None else np.asarray(allowed, np.int64)
    if keep == 0 or keep >= len(allowed):
        return allowed
    if good > keep:
        raise ValueError(f"good: expected at most keep={keep} good candidates, got {good}")
    ensembles = np.asarray(ensembles)
    votes = np.zeros(num_sources, np.int64)
    best_rank = np.full(num_sources, len(ensembles), np.int64)
    for metric in GOOD_FROM:
        order = np.argsort(-np.asarray(scores[metric], np.float64), kind="stable")[:top]
        for rank, row in enumerate(order):
            members = ensembles[row]
            votes[members] += 1
            best_rank[members] = np.minimum(best_rank[members], rank)
    ranked = np.lexsort((np.arange(num_sources), best_rank, -votes))  # last key is the primary one
    chosen = [int(i) for i in ranked[:good] if votes[i] > 0]
    rest = np.setdiff1d(allowed, chosen)
    drawn = np.random.default_rng(seed).choice(rest, size=keep - len(chosen), replace=False)
    return np.sort(np.concatenate([np.asarray(chosen, np.int64), drawn.astype(np.int64)]))


def run_candidates(ctx: Context) -> dict:
    config, probe = ctx.config, ctx.config.probe
    sources = pool.sources(ctx)
    ids = [s["id"] for s in sources]
    seed = int(probe.seeds[0])
    kept = {}
    for index, target in enumerate(plan.check_targets(config)):
        scores = scoring.load(ctx, target, seed)
        rows = choose({m: scores[f"ens_{m}"] for m in GOOD_FROM}, scores["ensembles"], len(ids),
                      keep=int(probe.candidates), good=int(probe.good_candidates), top=int(probe.top_ensembles),
                      seed=(int(config.seed), index), allowed=plan.candidates_for(config, target, sources))
        kept[target] = [ids[i] for i in rows]
    size = int(probe.ensemble_size)
    small = {t: len(k) for t, k in kept.items() if len(k) < size}
    if small:
        raise ValueError(f"config.probe.candidates: expected at least ensemble_size={size} kept per target, "
                         f"got {small}")
    write_json(ctx.path("candidates", "kept.json"), kept)
    return {"pool": len(ids), "kept": kept}


def digest(summary: dict) -> dict:
    """What the stages after this one depend on: the kept ids per target."""
    return summary["kept"]


def line(summary: dict) -> str:
    sizes = sorted({len(k) for k in summary["kept"].values()})
    return f"{'/'.join(map(str, sizes))} of {summary['pool']} source models kept per target"


def load(ctx: Context) -> dict:
    """{target: [kept source id, ...]} in pool order."""
    return read_json(ctx.path("candidates", "kept.json"))


def kept_indices(ctx: Context, target: str, ids: list[str]) -> np.ndarray:
    """int [K] indices into ``ids`` (the pool order) of ``target``'s kept candidates."""
    position = {source_id: i for i, source_id in enumerate(ids)}
    return np.array([position[i] for i in load(ctx)[target]], np.int64)
