"""``transel select``: rank every candidate ensemble of a user's pool for a user's target, end to end.

:func:`plan` checks everything cheap first (pool, target, sizes, metric names; nothing is loaded or run)
and says what will happen; :func:`select` then

1. reads the target's training label maps and draws one class-balanced pixel sample (up to
   ``max_per_image`` px per image, seeded; :func:`transel_jax.data.probe_samples.draw_samples`) with a
   feature subset of ``feature_pixels`` of them;
2. runs every pool model once over the sampled training images (softmax and features at the sampled
   pixels, :meth:`PoolModel.probe`), each probe cached by content (:mod:`.probe_cache`): a rerun
   recomputes nothing and a new model probes only itself; every model to probe is first
   protocol-checked on one image (:func:`validate_model`), so a broken model fails before any probe runs;
3. maps every source into the target label space by EEP (:func:`transel_jax.metrics.eep_stack`) and scores
   every C(N, S) ensemble with the batched engine (:func:`transel_jax.ensembles.score_ensembles`):
   MS-LEEP, E-LEEP, IoU-EEP, SoftIoU-EEP, and BASE when every source knows its (P_s, N_s, C_s). When
   C(N, S) exceeds ``max_enumerated``, greedy forward selection per ensemble metric
   (:func:`transel_jax.ensembles.greedy_select`) finds the candidates instead, and only those are scored
   (the result says ``searched``);
4. scores every single source with the single-model suite (:func:`transel_jax.metrics.suite.single_scores`).

The result is a :class:`Selection`; with ``out`` set it is written there (:mod:`.outputs`), and
:meth:`Selection.finetune` fine-tunes the top ensembles (:mod:`.finetune`).
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from transel_jax.data.probe_samples import draw_samples
from transel_jax.select import probe_cache
from transel_jax.select.model import PoolModel, validate_model
from transel_jax.select.pool import load_pool

ENSEMBLE_METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base")
SEARCH_METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep")
# element operations per second of the shared IoU pass on one CPU core (README, benchmarks/score_ensembles.py)
_IOU_ELEMENTS_PER_S = 2.5e9


@dataclasses.dataclass
class SelectPlan:
    """What :func:`select` will do, decided before any model runs.

    Attributes:
      models: the pool, in pool order; target: the resolved target (``.info``, ``.split``).
      size: S; ensembles: C(N, S); searched: True when greedy search replaces enumeration.
      train_images: target training images probed; max_per_image, feature_pixels, seed: the sampling.
      rank_by: the metric that orders ``ranking.csv``; base: whether BASE can be scored.
      cache_dir: where probes are cached (None: no cache).
    """

    models: list[PoolModel]
    target: object
    size: int
    ensembles: int
    searched: bool
    train_images: int
    max_per_image: int
    feature_pixels: int
    seed: int
    rank_by: str
    base: bool
    cache_dir: str | None
    batch_size: int
    pca_dims: int
    max_enumerated: int

    @property
    def metrics(self) -> tuple[str, ...]:
        return ENSEMBLE_METRICS if self.base else ENSEMBLE_METRICS[:-1]

    def estimate(self) -> dict:
        """Rough upper bounds: sampled pixels, memory of the EEP stack (bytes), seconds of the IoU pass."""
        n = self.train_images * self.max_per_image
        c = self.target.info.num_classes
        scored = self.ensembles if not self.searched else len(self.models) * self.size * len(SEARCH_METRICS)
        cores = max(1, os.cpu_count() or 1)
        return {"pixels_at_most": n, "eep_bytes": len(self.models) * n * c * 4,
                "iou_pass_s": scored * n * c * self.size / (_IOU_ELEMENTS_PER_S * cores)}

    def lines(self) -> list[str]:
        """The dry run's listing."""
        info = self.target.info
        out = [f"pool: {len(self.models)} models"]
        width = max(len(m.name) for m in self.models)
        for m in self.models:
            facts = [f"{m.num_classes} classes", m.kind]
            if m.meta.dataset:
                facts.append(f"trained on {m.meta.dataset}")
            if m.meta.source_miou is not None:
                facts.append(f"source mIoU {m.meta.source_miou:.3f}")
            out.append(f"  {m.name:{width}s}  {m.architecture:14s} {', '.join(facts)}  ({m.origin})")
        splits = ", ".join(f"{k} {v}" for k, v in info.splits.items())
        out.append(f"target: {self.target.spec} ({self.target.kind}): {info.num_classes} classes "
                   f"({', '.join(info.class_names[1:])}); images: {splits}")
        how = (f"searched greedily (C(N, S) > max_enumerated = {self.max_enumerated:,})" if self.searched
               else "all enumerated and scored")
        out.append(f"ensembles: C({len(self.models)}, {self.size}) = {self.ensembles:,}, {how}; "
                   f"metrics {', '.join(self.metrics)}; ranked by {self.rank_by}")
        if not self.base:
            missing = [m.name for m in self.models if m.base_terms() is None]
            out.append(f"  BASE left out: no source mIoU / image count for {', '.join(missing[:5])}"
                       + (" ..." if len(missing) > 5 else ""))
        est = self.estimate()
        cached = "no cache" if self.cache_dir is None else (
            f"probes cached: {self.cached} of {len(self.models)} in {self.cache_dir}")
        out.append(f"sampling: up to {self.max_per_image} px x {self.train_images} training images "
                   f"(<= {est['pixels_at_most']:,} px), seed {self.seed}; {cached}")
        out.append(f"estimate: EEP stack <= {est['eep_bytes'] / 2**20:,.0f} MiB; IoU pass <= "
                   f"{est['iou_pass_s']:,.1f} s on {os.cpu_count()} cores; probing runs each uncached model once "
                   f"over {self.train_images} images")
        return out

    cached: int | None = None  # probes found in the cache (set by :func:`count_cached`)


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _target(target, labels, resolution):
    from transel_jax.data.folder import resolve_target

    if hasattr(target, "info") and hasattr(target, "split"):
        return target
    kwargs = {}
    if labels is not None:
        kwargs["labels"] = labels
    if resolution:
        kwargs["resolution"] = int(resolution)
    t = resolve_target(target, **kwargs)
    if t.kind == "catalog" and resolution and t.info.suite == "synthetic":
        t = dataclasses.replace(t, info=dataclasses.replace(t.info, resolution=(int(resolution),) * 2))
    return t


def train_split(target):
    """The target's training images as the fine-tunes see them: a catalog dataset's target subset (150
    images, 1000 for COCO/ADE20K), a folder's whole ``train`` split."""
    from transel_jax.data import pipeline

    source = target.split("train")
    if target.kind == "catalog":
        source = pipeline.target_subset(source, target.info)
    return source


def plan(pool, target, *, size: int = 3, rank_by: str = "soft_iou_eep", seed: int = 0,
         max_per_image: int = 1000, feature_pixels: int = 2000, pca_dims: int = 32, batch_size: int = 8,
         max_enumerated: int = 200_000, cache_dir: str | None = None, labels: str | None = None,
         resolution: int | None = None) -> SelectPlan:
    """Resolve and check the pool and the target (module docstring); loads no weights, runs no model.

    ``pool``: a pool directory, a JSON pool file, a pool dict or a list of :class:`PoolModel`;
    ``target``: a folder dataset path or a catalog name (``labels`` declares a folder's convention,
    ``resolution`` sizes a synthetic catalog target). Raises ValueError/TypeError/FileNotFoundError naming
    the argument, the file or the model.
    """
    size = _check_int(size, "size", 1)
    seed = _check_int(seed, "seed", 0)
    max_per_image = _check_int(max_per_image, "max_per_image", 1)
    feature_pixels = _check_int(feature_pixels, "feature_pixels", 2)
    pca_dims = _check_int(pca_dims, "pca_dims", 1)
    batch_size = _check_int(batch_size, "batch_size", 1)
    max_enumerated = _check_int(max_enumerated, "max_enumerated", 1)
    models = load_pool(pool)
    if size > len(models):
        raise ValueError(f"size: expected S <= {len(models)} (the pool's models), got S = {size}")
    base = all(m.base_terms() is not None for m in models)
    allowed = ENSEMBLE_METRICS if base else ENSEMBLE_METRICS[:-1]
    if rank_by not in allowed:
        why = "" if base or rank_by != "base" else " (BASE needs every source's mIoU and image count)"
        raise ValueError(f"rank_by: expected one of {list(allowed)}{why}, got {rank_by!r}")
    tgt = _target(target, labels, resolution)
    if tgt.info.num_classes < 2:
        raise ValueError(f"target: expected at least 2 classes, got {tgt.info.num_classes} ({tgt.spec})")
    train = train_split(tgt)
    if len(train) == 0:
        raise ValueError(f"target: the train split of {tgt.spec} is empty")
    ensembles = math.comb(len(models), size)
    return SelectPlan(models=models, target=tgt, size=size, ensembles=ensembles,
                      searched=ensembles > max_enumerated, train_images=len(train),
                      max_per_image=max_per_image, feature_pixels=feature_pixels, seed=seed, rank_by=rank_by,
                      base=base, cache_dir=cache_dir, batch_size=batch_size, pca_dims=pca_dims,
                      max_enumerated=max_enumerated)


def count_cached(p: SelectPlan) -> int:
    """How many of the pool's probes are in ``p.cache_dir`` (reads the training split to digest it)."""
    if p.cache_dir is None:
        return 0
    sampling = probe_cache.sampling_key(probe_cache.target_digest(train_split(p.target)), seed=p.seed,
                                        max_per_image=p.max_per_image, feature_pixels=p.feature_pixels)
    p.cached = sum(1 for m in p.models if os.path.isfile(probe_cache.probe_path(p.cache_dir, m, sampling) or ""))
    return p.cached


@dataclasses.dataclass
class Probes:
    """The probe of a pool on the target: the pixel sample and every model's outputs there."""

    sample: object               # PixelSample of the training split
    feature_rows: np.ndarray     # int [f] rows of the sample the feature metrics see
    probs: list[np.ndarray]      # per model float32 [n, Z_s]
    feats: list[np.ndarray | None]  # per model float32 [f, D_s] or None
    probed: list[str]            # names of the models run (the others came from the cache)


def probe(p: SelectPlan, *, progress: bool = True) -> Probes:
    """Sample the target's training pixels and probe every model there (cached by content)."""
    train = train_split(p.target)
    labels = [np.asarray(train[i]["label"], np.int32)
              for i in tqdm(range(len(train)), desc="target labels", unit="img", leave=False, disable=not progress)]
    sample, rows = draw_samples(labels, (p.seed,), max_per_image=p.max_per_image,
                                feature_pixels=p.feature_pixels)[p.seed]
    if len(sample) == 0:
        raise ValueError(f"target: the train split of {p.target.spec} has no labelled (non-void) pixel")
    sampling = None
    if p.cache_dir is not None:
        sampling = probe_cache.sampling_key(probe_cache.target_digest(train), seed=p.seed,
                                            max_per_image=p.max_per_image, feature_pixels=p.feature_pixels)
    probs, feats, probed = [], [], []
    paths = [None if sampling is None else probe_cache.probe_path(p.cache_dir, m, sampling) for m in p.models]
    todo = [m for m, path in zip(p.models, paths) if path is None or not os.path.isfile(path)]
    example = np.asarray(train[0]["image"])[None]
    for m in tqdm(todo, desc="check models", unit="model", leave=False, disable=not progress):
        validate_model(m, example)  # every protocol problem before the first long probe
        m.release()
    for m, path in zip(tqdm(p.models, desc="probe", unit="model", disable=not progress), paths):
        hit = probe_cache.load(path)
        if hit is None:
            pr, ft = m.probe(train, sample, batch_size=p.batch_size)
            ft = None if ft is None else np.asarray(ft)[rows]
            probe_cache.store(path, pr, ft)
            m.release()
            probed.append(m.name)
            hit = (pr, ft)
        probs.append(np.asarray(hit[0], np.float32))
        feats.append(None if hit[1] is None else np.asarray(hit[1], np.float32))
    return Probes(sample=sample, feature_rows=rows, probs=probs, feats=feats, probed=probed)


@dataclasses.dataclass
class Selection:
    """Every candidate ensemble of the pool, scored, and every single source.

    Attributes:
      plan: the :class:`SelectPlan`; names: the N model names (pool order).
      scores: :class:`transel_jax.ensembles.EnsembleScores` (member indices into ``names``, one array per
        metric, higher is better); searched: greedy search instead of enumeration.
      singles: {metric: float64 [N]} single-model scores (NaN where a model has no features).
      probes: the :class:`Probes` the scores came from (eep is recomputed from them on demand).
    """

    plan: SelectPlan
    names: list[str]
    scores: object
    singles: dict[str, np.ndarray]
    probes: Probes
    searched: bool
    out: str | None = None

    @property
    def rank_by(self) -> str:
        return self.plan.rank_by

    def ranking(self, metric: str | None = None) -> list[dict]:
        """Every ensemble, best first by ``metric`` (default ``rank_by``): {"rank", "members", <metric>...}."""
        metric = metric or self.rank_by
        rows = []
        for rank, row in enumerate(self.scores.order(metric), start=1):
            rows.append({"rank": rank, "members": self.scores.members(row),
                         **{m: float(self.scores.scores[m][row]) for m in self.scores.metrics}})
        return rows

    def top(self, k: int = 10, metric: str | None = None) -> list[dict]:
        """The ``k`` best ensembles (rows of :meth:`ranking`)."""
        _check_int(k, "k", 1)
        return self.ranking(metric)[:k]

    def top_singles(self, k: int = 5, metric: str = "leep") -> list[tuple[str, float]]:
        """The ``k`` best single models by ``metric`` (B1 is the top LEEP one)."""
        if metric not in self.singles:
            raise ValueError(f"metric: expected one of {sorted(self.singles)}, got {metric!r}")
        values = self.singles[metric]
        order = np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")[:k]
        return [(self.names[i], float(values[i])) for i in order]

    def finetune(self, k: int = 1, **kwargs):
        """Fine-tune the members of the top ``k`` ensembles and B1; see :func:`.finetune.finetune_top`."""
        from transel_jax.select.finetune import finetune_top

        return finetune_top(self, k, **kwargs)


def score(p: SelectPlan, probes: Probes, *, progress: bool = True) -> tuple[object, dict, bool]:
    """(EnsembleScores, single scores, searched) from a pool's probes."""
    from transel_jax.ensembles import greedy_select, score_ensembles
    from transel_jax.metrics import base_terms, eep_stack
    from transel_jax.metrics.suite import single_scores

    info = p.target.info
    y = probes.sample.class_index
    names = [m.name for m in p.models]
    eep = np.asarray(eep_stack(probes.probs, y, info.num_classes))
    terms = None
    if p.base:
        facts = [m.base_terms() for m in p.models]
        terms = base_terms([f[0] for f in facts], [f[1] for f in facts], [f[2] for f in facts])
    kwargs = {"metrics": p.metrics, "base_terms": terms, "source_names": names, "progress": progress}
    searched = p.searched
    if not searched:
        result = score_ensembles(eep, y, p.size, **kwargs)
    else:
        found = {tuple(sorted(int(i) for i in greedy_select(eep, y, p.size, metric=m, base_terms=terms,
                                                             progress=progress).members))
                 for m in SEARCH_METRICS}
        result = score_ensembles(eep, y, ensembles=np.array(sorted(found), np.int32), **kwargs)
    depth = [m.meta.depth for m in p.models]
    images = [m.meta.source_images for m in p.models]
    known = all(d is not None for d in depth) and all(s is not None for s in images)
    singles = single_scores(probes.probs, y, probes.feats, y[probes.feature_rows], info.num_classes,
                            depth=np.array(depth, np.float64) if known else None,
                            source_size=np.array(images, np.float64) if known else None,
                            target_size=p.train_images, pca_dims=p.pca_dims)
    return result, singles, searched


def select(pool, target, *, size: int = 3, out: str | None = None, rank_by: str = "soft_iou_eep",
           seed: int = 0, max_per_image: int = 1000, feature_pixels: int = 2000, pca_dims: int = 32,
           batch_size: int = 8, max_enumerated: int = 200_000, cache_dir: str | None = None,
           labels: str | None = None, resolution: int | None = None, progress: bool = True,
           command: Sequence[str] | None = None, print_fn: Callable[[str], None] | None = None) -> Selection:
    """Rank every candidate ensemble of ``pool`` for ``target`` (module docstring); returns a :class:`Selection`.

    >>> import transel_jax as tj                                   # doctest: +SKIP
    >>> sel = tj.select("my_pool/", "my_target/", size=3, out="sel")  # doctest: +SKIP
    >>> sel.top(5)                                                  # doctest: +SKIP
    >>> sel.finetune(1)                                             # doctest: +SKIP

    ``out``: a folder for ``ranking.csv``, ``singles.csv``, ``selection.md`` (+ figure) and
    ``selection.json`` (provenance), and by default the probe cache (``<out>/cache``); ``cache_dir``
    overrides where probes are cached. Other arguments as in :func:`plan`.
    """
    import time

    from transel_jax.select import outputs
    from transel_jax.train.progress import shown

    if out is not None:
        outputs.check_out(out)
        cache_dir = cache_dir or os.path.join(out, "cache")
    p = plan(pool, target, size=size, rank_by=rank_by, seed=seed, max_per_image=max_per_image,
             feature_pixels=feature_pixels, pca_dims=pca_dims, batch_size=batch_size,
             max_enumerated=max_enumerated, cache_dir=cache_dir, labels=labels, resolution=resolution)
    say = print_fn or (lambda s: None)
    timings = {}
    t0 = time.perf_counter()
    with shown(progress):  # the inner bars (each model's forward passes) too
        probes = probe(p, progress=progress)
    timings["probe_s"] = time.perf_counter() - t0
    say(f"probed {len(probes.probed)} of {len(p.models)} models ({len(p.models) - len(probes.probed)} from the "
        f"cache) at {len(probes.sample):,} sampled pixels")
    t0 = time.perf_counter()
    with shown(progress):
        result, singles, searched = score(p, probes, progress=progress)
    timings["score_s"] = time.perf_counter() - t0
    sel = Selection(plan=p, names=[m.name for m in p.models], scores=result, singles=singles, probes=probes,
                    searched=searched, out=out)
    if out is not None:
        t0 = time.perf_counter()
        outputs.write(sel, out, command=command, timings=timings)
        say(f"wrote {os.path.join(out, 'ranking.csv')} ({len(result):,} {outputs.ensembles_word(len(result))}) and "
            f"{os.path.join(out, 'selection.md')}")
    return sel
