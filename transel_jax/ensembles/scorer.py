"""The batched all-ensembles scorer.

``score_ensembles(eep, labels, size=3)`` scores every candidate ensemble of a source pool with MS-LEEP,
E-LEEP, IoU-EEP, SoftIoU-EEP (and BASE when per-source terms are given) in a few passes over the
sampled pixels:

* MS-LEEP and BASE decompose over members: per-source values are computed once and summed per ensemble.
* IoU-EEP and SoftIoU-EEP (and E-LEEP with them, at no extra cost) come from per-class sufficient
  statistics accumulated over single-class pixel chunks by ``kernels.class_chunk_stats``.
* E-LEEP alone needs only q[s, i] = p_s(y_i | x_i), a [N, n] array: ``kernels.log_mean_sums``.

Memory is bounded by the chunking: the device holds one [N, C, m] chunk and per-ensemble partial sums;
the host accumulates float64 statistics of size [E, C]. [E, n, C] is never formed.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm.auto import tqdm

from transel_jax import checks
from transel_jax.ensembles import kernels
from transel_jax.ensembles.combinations import all_ensembles, validate_ensembles
from transel_jax.ensembles.results import EnsembleScores
from transel_jax.evaluation.miou import mean_iou_np
from transel_jax.metrics.eep import EPS
from transel_jax.metrics.ensemble import validate_members

ENSEMBLE_METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base")
DEFAULT_METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep")
_IOU_METRICS = ("iou_eep", "soft_iou_eep")


@dataclasses.dataclass(frozen=True)
class Plan:
    """How the work is cut: ``pixel_chunk`` pixels per device chunk, ``batch`` ensembles vmapped per step."""

    pixel_chunk: int
    batch: int

    @staticmethod
    def make(num_sources: int, num_classes: int, memory_budget: int, platform: str,
             pixel_chunk: int | None = None, batch: int | None = None) -> "Plan":
        """Choose chunk sizes within ``memory_budget`` bytes of device working memory.

        On CPU a loop over single ensembles with ~1k-pixel chunks keeps the working set in cache
        (measured fastest by benchmarks/score_ensembles.py); on accelerators many ensembles are vmapped
        per step over larger chunks. The chunk itself takes N*C*m*4 bytes, a vmapped step about
        4 * batch*C*m*4 bytes.
        """
        on_cpu = platform == "cpu"
        m = pixel_chunk or (1024 if on_cpu else 8192)
        m = max(1, min(m, memory_budget // (8 * num_sources * num_classes)))
        if batch is None:
            batch = 1 if on_cpu else max(1, min(1024, (memory_budget // 2) // (16 * num_classes * m)))
        return Plan(pixel_chunk=int(m), batch=int(batch))


def _resolve_ensembles(num_sources: int, size: int | None, ensembles) -> np.ndarray:
    if ensembles is None:
        return all_ensembles(num_sources, 3 if size is None else size)
    arr = validate_ensembles(ensembles, num_sources)
    if size is not None and size != arr.shape[1]:
        raise ValueError(f"size: expected {arr.shape[1]} (the width of ensembles) or None, got {size}")
    return arr


def per_source_log_likelihood(eep, labels) -> np.ndarray:
    """float64 [N, n] log p_s(y_i | x_i) -> its mean over pixels is each source's LEEP."""
    q = np.take_along_axis(eep, labels[None, :, None], axis=2)[..., 0]
    return np.log(np.maximum(q.astype(np.float64), EPS))


def score_ensembles(
    eep,
    labels,
    size: int | None = None,
    *,
    ensembles=None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    base_terms=None,
    source_names: Sequence[str] | None = None,
    memory_budget: int = 1 << 30,
    pixel_chunk: int | None = None,
    ensemble_batch: int | None = None,
    devices: Sequence[jax.Device] | None = None,
    progress: bool = True,
) -> EnsembleScores:
    """Score every candidate ensemble.

    Args:
      eep: float32 [N, n, C] EEP predictions of the N sources at n sampled pixels in the target label
        space (``transel_jax.metrics.eep`` or ``stack_eep`` make them from source probabilities).
      labels: int [n] target class indices 0..C-1.
      size: ensemble size S; all C(N, S) ensembles are scored (default 3). Give either this or
      ensembles: an explicit int [E, S] array of member indices.
      metrics: any of ENSEMBLE_METRICS. "base" needs ``base_terms``.
      base_terms: float [N] per-source P_s * N_s * C_s (``metrics.ensemble.base_terms``).
      source_names: names of the N sources, carried into the result.
      memory_budget: bytes of device working memory the chunking may use.
      pixel_chunk, ensemble_batch: override the planned chunk sizes.
      devices: devices to shard the ensembles over (default: all local devices). On a multi-core CPU,
        expose one XLA device per core (``XLA_FLAGS=--xla_force_host_platform_device_count=K`` set before
        jax is imported) to use every core.
      progress: show a progress bar over pixel chunks.
    Returns:
      EnsembleScores with ``ensembles`` [E, S] and one float64 [E] score per metric (higher = better).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> eep = rng.dirichlet(np.ones(4), size=(5, 200)).astype(np.float32)
    >>> labels = rng.integers(0, 4, 200)
    >>> res = score_ensembles(eep, labels, size=3, metrics=("e_leep", "soft_iou_eep"), progress=False)
    >>> res.ensembles.shape, sorted(res.scores)
    ((10, 3), ['e_leep', 'soft_iou_eep'])
    """
    metrics = tuple(metrics)
    if not metrics:
        raise ValueError(f"metrics: expected at least one of {ENSEMBLE_METRICS}, got none")
    for m in metrics:
        checks.check_choice(m, "metrics", ENSEMBLE_METRICS)
    eep = np.asarray(eep)
    labels = np.asarray(labels)
    validate_members(eep, labels, name="eep", dims="[N, n, C]")
    num_sources, num_pixels, num_classes = eep.shape
    members = _resolve_ensembles(num_sources, size, ensembles)
    if source_names is not None and len(source_names) != num_sources:
        raise ValueError(f"source_names: expected {num_sources} names (one per source), got {len(source_names)}")
    eep = eep.astype(np.float32, copy=False)
    labels = labels.astype(np.int32)

    scores: dict[str, np.ndarray] = {}
    if "ms_leep" in metrics:
        leep = per_source_log_likelihood(eep, labels).mean(axis=1)
        scores["ms_leep"] = leep[members].sum(axis=1)
    if "base" in metrics:
        if base_terms is None:
            raise ValueError("base_terms: expected float [N] per-source P*N*C terms for metric 'base', got None")
        terms = np.asarray(base_terms, np.float64)
        checks.check_rank(terms, "base_terms", 1, "[N]")
        checks.check_dim("base_terms", "N (sources)", terms.shape[0], num_sources)
        scores["base"] = terms[members].sum(axis=1)

    plan = Plan.make(num_sources, num_classes, memory_budget, jax.default_backend(), pixel_chunk, ensemble_batch)
    mesh = Mesh(np.asarray(jax.local_devices() if devices is None else list(devices)), (kernels.AXIS,))
    if any(m in metrics for m in _IOU_METRICS):
        stats = _accumulate_class_stats(eep, labels, members, plan, mesh, progress)
        scores.update(_scores_from_class_stats(stats, num_pixels, metrics))
    elif "e_leep" in metrics:
        scores["e_leep"] = _e_leep_only(eep, labels, members, plan, mesh, progress) / num_pixels
    ordered = {m: np.asarray(scores[m], np.float64) for m in metrics}
    return EnsembleScores(ensembles=members, scores=ordered, source_names=source_names)


def _chunk_sizes(count: int, chunk: int) -> list[int]:
    """Sizes of the chunks holding ``count`` pixels of one class: full chunks, then the remainder padded
    to a power of two (at least 64 or ``chunk``), so padding stays small and few shapes are compiled."""
    full, rest = divmod(count, chunk)
    tail = [min(chunk, max(64, 1 << (rest - 1).bit_length()))] if rest else []
    return [chunk] * full + tail


def _class_chunks(labels: np.ndarray, chunk: int):
    """Yield (class, pixel indices [size], weights [size]): every pixel once, in chunks of one class.

    A chunk that is not full is padded by repeating its first pixel with weight 0.
    """
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(labels.max() + 2))
    for cls in range(labels.max() + 1):
        idx = order[bounds[cls]:bounds[cls + 1]]
        start = 0
        for size in _chunk_sizes(idx.size, chunk):
            part = idx[start:start + size]
            start += size
            weights = np.zeros(size, np.float32)
            weights[:part.size] = 1.0
            yield cls, np.pad(part, (0, size - part.size), mode="edge"), weights


def _num_class_chunks(labels: np.ndarray, chunk: int) -> int:
    return sum(len(_chunk_sizes(int(c), chunk)) for c in np.bincount(labels))


def _replicate(x, mesh: Mesh):
    return jax.device_put(x, NamedSharding(mesh, P()))


def _split_ensembles(members: np.ndarray, mesh: Mesh, multiple: int = 1):
    """Members padded (repeating row 0) to a multiple of the device count (and of ``multiple``), placed
    split over the mesh; the caller drops the padded rows of the outputs."""
    step = int(np.lcm(mesh.size, multiple))
    padded = np.concatenate([members, np.repeat(members[:1], -members.shape[0] % step, axis=0)])
    return jax.device_put(padded, NamedSharding(mesh, P(kernels.AXIS)))


def _accumulate_class_stats(eep, labels, members, plan: Plan, mesh: Mesh, progress: bool) -> dict[str, np.ndarray]:
    """float64 per-ensemble, per-class statistics summed over all pixels (see kernels.TRUE_FIELDS)."""
    num_ens, num_classes = members.shape[0], eep.shape[2]
    acc = {k: np.zeros((num_ens, num_classes)) for k in ("tp", "pred", "tp_soft", "fn_soft", "fp_soft")}
    acc["log_q"] = np.zeros(num_ens)
    acc["count"] = np.bincount(labels, minlength=num_classes).astype(np.float64)
    members_dev = _split_ensembles(members, mesh, plan.batch)
    kernel = kernels.on_mesh(kernels.class_chunk_stats, mesh, 4, split_ties=False, batch=plan.batch)

    def add(cls, weights, chunk, pending):
        true, pred, spread = (np.asarray(a, np.float64)[:num_ens] for a in pending)
        tied = np.nonzero(pred.sum(axis=1) > weights.sum() + 0.5)[0]
        if tied.size:  # rare: recompute those ensembles with ties split evenly
            true[tied], pred[tied], spread[tied] = _split_ties(chunk, cls, weights, members[tied], plan, mesh)
        acc["tp"][:, cls] += true[:, 0]
        acc["tp_soft"][:, cls] += true[:, 1]
        acc["fn_soft"][:, cls] += true[:, 2]
        acc["fp_soft"] += spread
        acc["fp_soft"][:, cls] -= true[:, 3]
        acc["log_q"] += true[:, 4]
        acc["pred"] += pred

    previous = None
    bar = tqdm(total=_num_class_chunks(labels, plan.pixel_chunk), disable=not progress, unit="chunk",
               desc=f"scoring {num_ens:,} ensembles")
    for cls, idx, weights in _class_chunks(labels, plan.pixel_chunk):
        chunk = _replicate(np.ascontiguousarray(eep[:, idx, :].transpose(0, 2, 1)), mesh)
        pending = kernel(chunk, _replicate(np.int32(cls), mesh), _replicate(weights, mesh), members_dev)
        if previous is not None:  # accumulate the previous chunk while this one computes
            add(*previous)
            bar.update()
        previous = (cls, weights, chunk, pending)
    add(*previous)
    bar.update()
    bar.close()
    return acc


def _split_ties(chunk, cls, weights, members, plan: Plan, mesh: Mesh):
    """Exact statistics (ties split evenly) for a few ensembles; padded to a power of two to bound recompiles."""
    count = members.shape[0]
    padded = np.concatenate([members, np.repeat(members[:1], (1 << (count - 1).bit_length()) - count, 0)])
    batch = min(plan.batch, padded.shape[0])
    kernel = kernels.on_mesh(kernels.class_chunk_stats, mesh, 4, split_ties=True, batch=batch)
    out = kernel(chunk, _replicate(np.int32(cls), mesh), _replicate(weights, mesh),
                 _split_ensembles(padded, mesh, batch))
    return tuple(np.asarray(a, np.float64)[:count] for a in out)


def _scores_from_class_stats(stats, num_pixels: int, metrics) -> dict[str, np.ndarray]:
    out = {}
    if "e_leep" in metrics:
        out["e_leep"] = stats["log_q"] / num_pixels
    if "iou_eep" in metrics:
        tp = stats["tp"]
        out["iou_eep"] = mean_iou_np(tp, stats["pred"] + stats["count"] - tp, atol=1e-9)
    if "soft_iou_eep" in metrics:
        tp = stats["tp_soft"]
        out["soft_iou_eep"] = mean_iou_np(tp, tp + stats["fp_soft"] + stats["fn_soft"], atol=1e-9)
    return out


def _e_leep_only(eep, labels, members, plan: Plan, mesh: Mesh, progress: bool) -> np.ndarray:
    """sum_i log p_ens(y_i | x_i) per ensemble from q[s, i] = p_s(y_i | x_i), chunked over pixels."""
    q = np.take_along_axis(eep, labels[None, :, None], axis=2)[..., 0]  # [N, n]
    group = kernels.LOG_GROUP
    # q is C times smaller per pixel than eep; 2048 pixels keep [N, m] in a core's cache (measured)
    chunk = -(-min(2048, plan.pixel_chunk * eep.shape[2], q.shape[1]) // group) * group
    members_dev = _split_ensembles(members, mesh, plan.batch)
    kernel = kernels.on_mesh(kernels.log_mean_sums, mesh, 3, batch=plan.batch)
    total = np.zeros(members.shape[0])
    for start in tqdm(range(0, q.shape[1], chunk), disable=not progress, unit="chunk",
                      desc=f"E-LEEP of {members.shape[0]:,} ensembles"):
        part = q[:, start:start + chunk]
        weights = np.zeros(chunk, np.float32)
        weights[:part.shape[1]] = 1.0
        part = np.pad(part, ((0, 0), (0, chunk - part.shape[1])), mode="edge")
        total += np.asarray(kernel(_replicate(part, mesh), _replicate(weights, mesh), members_dev),
                            np.float64)[: members.shape[0]]
    return total
