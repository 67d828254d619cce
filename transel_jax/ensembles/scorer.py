"""The batched all-ensembles scorer.

``score_ensembles(eep, labels, size=3)`` scores every candidate ensemble of a source pool with MS-LEEP,
E-LEEP, IoU-EEP, SoftIoU-EEP (and BASE when per-source terms are given) in a few passes over the
sampled pixels:

* MS-LEEP and BASE decompose over members: per-source values are computed once and summed per ensemble.
* IoU-EEP and SoftIoU-EEP (and E-LEEP with them, at no extra cost) come from per-class sufficient
  statistics accumulated over single-class pixel chunks: by the exact pruned pass (``pruned.py``:
  argmaxes certified from each member's top-K lists, the dense computation only on the rest) or by the
  dense pass (``kernels.class_chunk_stats``), chosen per class by how many pixels the pruned kernel leaves
  uncertified on a sample of the ensembles.
* E-LEEP alone needs only q[s, i] = p_s(y_i | x_i), a [N, n] array: ``kernels.log_mean_sums``.

Memory is bounded by the chunking: the input (an array, a memory-mapped ``.npy`` or a chunked source,
see ``source.py``) is read one chunk of pixels at a time in its own dtype; the device holds one [N, C, m]
chunk and per-ensemble partial sums; the host accumulates float64 statistics of size [E, C]. [E, n, C]
is never formed, and neither is a second copy of [N, n, C].

Tie rule (the same as ``transel_jax.metrics.ensemble``): the ensemble's prediction at a pixel is the set
of classes whose float32 sum x_c = p_{m_0}(c) + p_{m_1}(c) + ... (members in the order given) equals
max_c x_c exactly; a pixel with t such classes counts 1/t for each.
"""
from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from tqdm.auto import tqdm

from transel_jax import checks
from transel_jax.ensembles import kernels, pruned
from transel_jax.ensembles.combinations import all_ensembles, validate_ensembles
from transel_jax.ensembles.results import EnsembleScores
from transel_jax.ensembles.source import ArraySource, as_source
from transel_jax.evaluation.miou import mean_iou_np
from transel_jax.metrics.eep import EPS

ENSEMBLE_METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep", "base")
DEFAULT_METRICS = ("ms_leep", "e_leep", "iou_eep", "soft_iou_eep")
_IOU_METRICS = ("iou_eep", "soft_iou_eep")
# per-source list length of the pruned pass, by measurement (peaked inputs, C = 20, shared 2-core CPU):
# K = 1: kernel ~36 ns per (ensemble, pixel) with gathered lookups, 0.05% of pixels uncertified; K = 2:
# ~110 ns, 0.002%
TOP_K = 1
# "auto" considers the pruned pass from this many classes on: its kernel costs about the same per (ensemble,
# pixel) whatever C (S^2 K contiguous reads of the pair table, a histogram scatter), the dense pass grows
# with C. ``python benchmarks/iou_kernels.py --C 10|16|20`` (peaked, N = 64, one 1024-pixel chunk, idle
# 2-core CPU), ns per (ensemble, pixel), dense vs pruned with the pair table: C = 10: 4.52 vs 4.46;
# C = 16: 5.76 vs 4.49; C = 20: 6.68 vs 4.49 (plus prepare: 0.4-0.6 ns).
PRUNED_MIN_CLASSES = 16
# ... and from this many when the pair table does not fit (PAIR_TABLE_BYTES: N above about 250 at K = 1)
# and the kernel gathers its lookups, at about twice the cost: greedy rounds at N = 1000, C = 20 took 145 s
# with the pruned pass, 98 s with the dense one (``benchmarks/score_memmap.py --N 1000 --n 150000 --C 20
# --greedy [--iou-pass dense]``); gathered 22.6-23.8 ns against dense 14.4 (C = 20) and 32.0 (C = 40) in
# ``benchmarks/iou_kernels.py`` on a loaded machine
PRUNED_MIN_CLASSES_GATHERED = 32
# "auto" runs the pruned kernel on _PROBE_ENSEMBLES ensembles of the first chunk of each class, and runs
# the class's chunks on the pruned pass when at most this share of their (ensemble, pixel) pairs is
# uncertified, on the dense pass otherwise (probing every chunk cost 6% on random inputs, where every
# probe says dense). Break-even: the pruned kernel costs about 4.5 ns per (ensemble, pixel), the dense
# one 0.33 C ns, and each uncertified pixel about 80 ns in the fallback (``benchmarks/iou_kernels.py`` and
# ``benchmarks/score_passes.py --n 20000``, C = 20, idle 2-core CPU): (6.7 - 4.5) / 80 = 2.7% at C = 20,
# more with more classes; 2% keeps "auto" at least as fast as the dense pass from C = 16 on.
DENSE_SWITCH = 0.02
_PROBE_ENSEMBLES = 512


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


def _resolve_metrics(metrics) -> tuple[str, ...]:
    if isinstance(metrics, str):  # one metric by name
        metrics = (metrics,)
    try:
        metrics = tuple(metrics)
    except TypeError:
        raise TypeError(f"metrics: expected a metric name or a sequence of names from {ENSEMBLE_METRICS}, "
                        f"got {metrics!r}") from None
    if not metrics:
        raise ValueError(f"metrics: expected at least one of {ENSEMBLE_METRICS}, got none")
    for m in metrics:
        checks.check_choice(m, "metrics", ENSEMBLE_METRICS)
    return metrics


def _resolve_devices(devices):
    if devices is None:
        _warn_single_cpu_device()
        return list(jax.local_devices())
    try:
        devices = list(devices)
    except TypeError:
        raise TypeError(f"devices: expected a sequence of jax.Device, got {devices!r}") from None
    if not devices:
        raise ValueError("devices: expected at least one jax.Device (or None for all local devices), got []")
    bad = [d for d in devices if not isinstance(d, jax.Device)]
    if bad:
        raise TypeError(f"devices: expected jax.Device objects (e.g. jax.devices()), got {bad[0]!r}")
    return devices


_WARNED = []


def _warn_single_cpu_device() -> None:
    """Warn once when scoring on one XLA CPU device of a multi-core machine (the engine uses one core per
    XLA device), with the exact line that gives one device per core. Not in a multi-process job: its
    processes share the machine's cores (``launch/local_multiprocess.sh`` gives each process its share)."""
    cores = os.cpu_count() or 1
    if (_WARNED or cores < 2 or jax.default_backend() != "cpu" or len(jax.local_devices()) > 1
            or jax.process_count() > 1):
        return
    _WARNED.append(True)
    warnings.warn(
        f"transel_jax: scoring ensembles on 1 XLA CPU device, i.e. 1 of {cores} cores. To use every core, "
        f"set this before jax is imported (first line of the script or notebook):\n"
        f"    import os; os.environ['XLA_FLAGS'] = '--xla_force_host_platform_device_count={cores}'\n"
        f"(or `export XLA_FLAGS=--xla_force_host_platform_device_count=$(nproc)` in the shell); the "
        f"`transel score` command sets it itself.", RuntimeWarning, stacklevel=3)


def _check_optional_positive(value, name: str):
    if value is not None:
        checks.check_positive_int(value, name)


def check_base_terms(base_terms, num_sources: int) -> np.ndarray:
    """float64 [N] per-source BASE terms: numeric, finite and non-negative, else TypeError/ValueError."""
    if base_terms is None:
        raise ValueError("base_terms: expected float [N] per-source P*N*C terms for metric 'base', got None")
    terms = np.asarray(base_terms)
    if not (np.issubdtype(terms.dtype, np.floating) or np.issubdtype(terms.dtype, np.integer)) \
            or terms.dtype == bool:
        raise TypeError(f"base_terms: expected a numeric [N] array, got dtype {terms.dtype}")
    terms = terms.astype(np.float64)
    checks.check_rank(terms, "base_terms", 1, "[N]")
    checks.check_dim("base_terms", "N (sources)", terms.shape[0], num_sources)
    checks.check_finite(terms, "base_terms")
    if np.any(terms < 0):
        raise ValueError(f"base_terms: expected non-negative P*N*C terms, got minimum {terms.min():g}")
    return terms


def _check_labels(labels, num_pixels: int, num_classes: int) -> np.ndarray:
    if labels is None:
        raise TypeError("labels: expected int [n] class indices, got None")
    labels = np.asarray(labels)
    checks.check_rank(labels, "labels", 1, "[n]")
    checks.check_nonempty(labels, "labels")
    checks.check_dim("labels", "n (pixels, matching eep.shape[1])", labels.shape[0], num_pixels)
    checks.check_labels(labels, "labels", 0, num_classes - 1)
    return labels.astype(np.int32)


def score_ensembles(
    eep,
    labels,
    size: int | None = None,
    *,
    ensembles=None,
    metrics: Sequence[str] | str = DEFAULT_METRICS,
    base_terms=None,
    source_names: Sequence[str] | None = None,
    memory_budget: int = 1 << 30,
    pixel_chunk: int | None = None,
    ensemble_batch: int | None = None,
    devices: Sequence[jax.Device] | None = None,
    progress: bool = True,
    iou_pass: str = "auto",
    top_k: int = TOP_K,
) -> EnsembleScores:
    """Score every candidate ensemble.

    Args:
      eep: [N, n, C] EEP predictions of the N sources at n sampled pixels in the target label space
        (``transel_jax.metrics.eep`` or ``eep_stack`` make them from source probabilities): a numpy array
        (float16/float32/float64), a path to an ``.npy`` file (opened as a read-only memory map), an
        ``np.memmap`` / ``np.load(..., mmap_mode="r")`` array, or a chunked source (an object with
        ``shape``, ``dtype`` and ``read(pixels) -> [N, k, C]``, see ``transel_jax.ensembles.source``).
        The input is read one pixel chunk at a time in its own dtype and never copied whole. Which
        on-disk layout streams well: pixels sorted by true class (store ``eep[:, order]`` with ``order =
        np.argsort(labels, kind="stable")``), since the IoU pass reads single-class chunks, which are
        then N contiguous slabs per chunk (sequential reads) instead of m scattered rows per source.
        An in-memory array is validated before any work; a memory map or chunked source is validated
        chunk by chunk as it is read (a bad row raises ValueError naming ``eep``); a source already
        checked (``transel_jax.ensembles.source.Checked``, ``checked = True``) is not checked again.
      labels: int [n] target class indices 0..C-1.
      size: ensemble size S; all C(N, S) ensembles are scored (default 3). Give either this or
      ensembles: an explicit int [E, S] array of member indices.
      metrics: a name or a sequence of names from ENSEMBLE_METRICS. "base" needs ``base_terms``.
      base_terms: float [N] per-source P_s * N_s * C_s (``metrics.ensemble.base_terms``), finite, >= 0.
      source_names: names of the N sources, carried into the result.
      memory_budget: bytes (integer >= 1) of device working memory the chunking may use.
      pixel_chunk, ensemble_batch: override the planned chunk sizes (integers >= 1).
      devices: devices to shard the ensembles over (default: all local devices). ``jax.devices()`` of a
        multi-process job (``jax.distributed``) spans every process: each process then calls with the
        same inputs (it holds the pixel chunks), the ensembles are split over every device, and every
        process returns the whole, identical result. On a multi-core CPU,
        expose one XLA device per core (``XLA_FLAGS=--xla_force_host_platform_device_count=K`` set before
        jax is imported) to use every core; without it a warning says so once.
      progress: show a progress bar over pixel chunks.
      iou_pass: "auto" (from PRUNED_MIN_CLASSES classes on, or PRUNED_MIN_CLASSES_GATHERED when the pool
        is too large for the pair table, each class's chunks take the pruned pass unless the pruned kernel
        leaves over DENSE_SWITCH of the pixels of its first chunk uncertified on a sample of the
        ensembles, e.g. on flat inputs; the dense pass below), "pruned" or "dense". All three give the
        same statistics (same argmaxes, same tie rule, same q).
      top_k: K, the per-source list length of the pruned pass.
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
    metrics = _resolve_metrics(metrics)
    checks.check_positive_int(memory_budget, "memory_budget")
    _check_optional_positive(pixel_chunk, "pixel_chunk")
    _check_optional_positive(ensemble_batch, "ensemble_batch")
    checks.check_choice(iou_pass, "iou_pass", ("auto", "pruned", "dense"))
    checks.check_positive_int(top_k, "top_k")
    source = as_source(eep, "eep")
    if len(source.shape) != 3:
        raise ValueError(f"eep: expected a 3-d array [N, n, C], got shape {tuple(source.shape)}")
    if not np.issubdtype(np.dtype(source.dtype), np.floating):
        raise TypeError(f"eep: expected a floating-point array of probabilities, got dtype {source.dtype}")
    num_sources, num_pixels, num_classes = source.shape
    for axis, (count, what) in enumerate(zip(source.shape, ("source", "pixel", "class"))):
        if count == 0:
            raise ValueError(f"eep: expected at least one {what} (axis {axis}), got shape {tuple(source.shape)}")
    labels = _check_labels(labels, num_pixels, num_classes)
    members = _resolve_ensembles(num_sources, size, ensembles)
    if source_names is not None and len(source_names) != num_sources:
        raise ValueError(f"source_names: expected {num_sources} names (one per source), got {len(source_names)}")
    terms = check_base_terms(base_terms, num_sources) if "base" in metrics else None
    checked = bool(getattr(source, "checked", False))
    validate_each_chunk = not checked and not (isinstance(source, ArraySource) and source.in_memory)
    # host-side blocks of contiguous pixels for validation and the true-class pass, within the budget
    block = int(np.clip(memory_budget // (8 * num_sources * num_classes), 256, 1 << 16))
    if not checked and not validate_each_chunk:
        _validate_in_blocks(source, block)
    mesh = Mesh(np.asarray(_resolve_devices(devices)), (kernels.AXIS,))

    scores: dict[str, np.ndarray] = {}
    if terms is not None:
        scores["base"] = terms[members].sum(axis=1)
    plan = Plan.make(num_sources, num_classes, memory_budget, jax.default_backend(), pixel_chunk, ensemble_batch)
    iou = any(m in metrics for m in _IOU_METRICS)
    e_leep_alone = "e_leep" in metrics and not iou
    log_sums = np.zeros(num_sources)
    q_all = np.empty((num_sources, num_pixels), np.float32) if e_leep_alone else None
    if iou:
        stats = _accumulate_class_stats(source, labels, members, plan, mesh, progress, iou_pass, top_k,
                                        log_sums, validate_each_chunk)
        scores.update(_scores_from_class_stats(stats, num_pixels, metrics))
    elif "ms_leep" in metrics or e_leep_alone:
        _true_class_pass(source, labels, log_sums, q_all, validate_each_chunk, block)
    if "ms_leep" in metrics:
        scores["ms_leep"] = (log_sums / num_pixels)[members].sum(axis=1)
    if e_leep_alone:
        scores["e_leep"] = _e_leep_only(q_all, members, plan, mesh, num_classes, progress) / num_pixels
    ordered = {m: np.asarray(scores[m], np.float64) for m in metrics}
    return EnsembleScores(ensembles=members, scores=ordered, source_names=source_names)


def _validate_in_blocks(source: ArraySource, block: int) -> None:
    """Probability checks of an in-memory array, a block of pixels at a time (no full-size temporaries)."""
    n = source.shape[1]
    for start in range(0, n, block):
        checks.check_probabilities(source.array[:, start:start + block], "eep")


def _true_class_pass(source, labels, log_sums, q_all, validate: bool, block: int) -> None:
    """One sequential pass over contiguous pixel blocks: adds sum_i log max(q[s, i], EPS) to ``log_sums``
    [N] and stores q in ``q_all`` [N, n] when given."""
    n = source.shape[1]
    for start in range(0, n, block):
        idx = np.arange(start, min(n, start + block))
        chunk = source.read(idx)
        if validate:
            checks.check_probabilities(chunk, "eep")
        q = np.take_along_axis(chunk, labels[idx][None, :, None], axis=2)[..., 0].astype(np.float32)
        log_sums += np.log(np.maximum(q.astype(np.float64), EPS)).sum(axis=1)
        if q_all is not None:
            q_all[:, idx] = q


def _chunk_sizes(count: int, chunk: int, multiple: int = 1) -> list[int]:
    """Sizes of the chunks holding ``count`` pixels of one class: full chunks, then the remainder padded
    to a power of two (at least 64 or ``chunk``), so padding stays small and few shapes are compiled.
    ``multiple``: every size is rounded up to a multiple of it (the pruned pass's 32-pixel blocks)."""
    up = lambda size: -(-size // multiple) * multiple  # noqa: E731
    chunk = up(chunk)
    full, rest = divmod(count, chunk)
    tail = [min(chunk, up(max(64, 1 << (rest - 1).bit_length())))] if rest else []
    return [chunk] * full + tail


def _class_chunks(labels: np.ndarray, chunk: int, multiple: int = 1):
    """Yield (class, pixel indices [size], weights [size]): every pixel once, in chunks of one class.

    A chunk that is not full is padded by repeating its first pixel with weight 0. The indices of the
    real pixels are ascending (a gather reads them in file order).
    """
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(labels.max() + 2))
    for cls in range(labels.max() + 1):
        idx = order[bounds[cls]:bounds[cls + 1]]
        start = 0
        for size in _chunk_sizes(idx.size, chunk, multiple):
            part = idx[start:start + size]
            start += part.size
            weights = np.zeros(size, np.float32)
            weights[:part.size] = 1.0
            yield cls, np.pad(part, (0, size - part.size), mode="edge"), weights


def _num_class_chunks(labels: np.ndarray, chunk: int, multiple: int = 1) -> int:
    return sum(len(_chunk_sizes(int(c), chunk, multiple)) for c in np.bincount(labels))


def _host(a, dtype=None) -> np.ndarray:
    """A kernel's output on the host. Sharded over the devices of several processes (``devices`` spanning
    a multi-process job), it is gathered first, so every process gets the whole array."""
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
        from jax.experimental import multihost_utils

        a = multihost_utils.process_allgather(a, tiled=True)
    return np.asarray(a, dtype)


def _replicate(x, mesh: Mesh):
    return jax.device_put(x, NamedSharding(mesh, P()))


def _split_ensembles(members: np.ndarray, mesh: Mesh, multiple: int = 1):
    """Members padded (repeating row 0) to a multiple of the device count (and of ``multiple``), placed
    split over the mesh; the caller drops the padded rows of the outputs."""
    step = int(np.lcm(mesh.size, multiple))
    padded = np.concatenate([members, np.repeat(members[:1], -members.shape[0] % step, axis=0)])
    return jax.device_put(padded, NamedSharding(mesh, P(kernels.AXIS)))


def _read_chunk(source, idx: np.ndarray, weights: np.ndarray, validate: bool) -> np.ndarray:
    """float32 [N, size, C] of the chunk's pixels: the real (ascending) ones read, the padding repeated."""
    real = int(weights.sum())
    part = source.read(idx[:real])
    if validate:
        checks.check_probabilities(part, "eep")
    part = part.astype(np.float32, copy=False)
    if real < idx.size:
        part = np.concatenate([part, np.repeat(part[:, :1], idx.size - real, axis=1)], axis=1)
    return part


class _Accumulator:
    """float64 per-ensemble, per-class statistics summed over all pixels (see kernels.TRUE_FIELDS)."""

    def __init__(self, num_ens: int, num_classes: int, labels: np.ndarray):
        self.num_ens = num_ens
        self.acc = {k: np.zeros((num_ens, num_classes)) for k in ("tp", "pred", "tp_soft", "fn_soft", "fp_soft")}
        self.acc["log_q"] = np.zeros(num_ens)
        self.acc["count"] = np.bincount(labels, minlength=num_classes).astype(np.float64)

    def add(self, cls: int, true, pred, spread, rows=None) -> None:
        a = self.acc
        rows = slice(None) if rows is None else rows
        a["tp"][rows, cls] += true[:, 0]
        a["tp_soft"][rows, cls] += true[:, 1]
        a["fn_soft"][rows, cls] += true[:, 2]
        a["fp_soft"][rows] += spread
        a["fp_soft"][rows, cls] -= true[:, 3]
        a["log_q"][rows] += true[:, 4]
        a["pred"][rows] += pred


def _accumulate_class_stats(source, labels, members, plan: Plan, mesh: Mesh, progress: bool, iou_pass: str,
                            top_k: int, log_sums, validate: bool) -> dict[str, np.ndarray]:
    """Per-class statistics of every ensemble over all pixels, one single-class chunk at a time; also adds
    each source's sum of log q to ``log_sums`` (MS-LEEP comes out of the same read)."""
    num_ens, num_classes = members.shape[0], source.shape[2]
    acc = _Accumulator(num_ens, num_classes, labels)
    members_dev = _split_ensembles(members, mesh, plan.batch)
    dense_kernel = kernels.on_mesh(kernels.class_chunk_stats, mesh, 4, split_ties=False, batch=plan.batch)
    pair_table = pruned.use_pair_table(source.shape[0], top_k, plan.pixel_chunk)
    pruned_kernel = kernels.on_mesh(pruned.pruned_chunk_stats, mesh, 8, batch=plan.batch, num_classes=num_classes)
    prepare = pruned.replicated_prepare(mesh, top_k)  # the lists; the pair table only for a pruned chunk
    table = pruned.replicated_table(mesh) if pair_table else None
    if iou_pass == "auto" and num_classes < (PRUNED_MIN_CLASSES if pair_table else PRUNED_MIN_CLASSES_GATHERED):
        iou_pass = "dense"
    probe = members[_probe_rows(num_ens)] if iou_pass == "auto" else None
    probe_dev = _split_ensembles(probe, mesh, plan.batch) if probe is not None else None

    def finish(pending):
        kind, cls, weights, chunk, out = pending
        # the kernels' float32 outputs are added to the float64 sums as they are (numpy converts inside
        # the add): a float64 copy of each [E, C] output per chunk cost ~5 ms on the host
        if kind == "dense":
            true, pred, spread = (_host(a)[:num_ens] for a in out)
            tied = np.flatnonzero(pred.sum(axis=1) > weights.sum() + 0.5)
            if tied.size:  # rare: recompute those ensembles with ties split evenly
                true, pred, spread = (a.astype(np.float64) for a in (true, pred, spread))
                true[tied], pred[tied], spread[tied] = _split_ties(chunk, cls, weights, members[tied], plan, mesh)
            acc.add(cls, true, pred, spread)
            return
        true, pred, spread = (_host(a)[:num_ens] for a in out[:3])
        acc.add(cls, true, pred, spread)
        acc.acc["pred"][:, cls] += true[:, 0]  # certified correct pixels are predicted as their class
        bits = _host(out[3])[:num_ens]
        # np.nonzero of the uint32 masks took ~12-23 ms per [41,664, 32] chunk, on a bool mask ~1 ms
        rows, blocks = np.divmod(np.flatnonzero(bits != 0), bits.shape[1])
        if rows.size:
            _dense_pixels(chunk, cls, weights, members, rows, blocks, bits[rows, blocks], mesh, acc)

    def lists(host, cls_dev):
        """(the chunk on the mesh, then prepare's top-K lists)."""
        chunk_dev = _replicate(host, mesh)
        return (chunk_dev, *prepare(chunk_dev, cls_dev))

    previous, probed, use_pruned = None, None, False
    bar = tqdm(total=_num_class_chunks(labels, plan.pixel_chunk, pruned.BLOCK), disable=not progress, unit="chunk",
               desc=f"scoring {num_ens:,} ensembles")
    for cls, idx, weights in _class_chunks(labels, plan.pixel_chunk, pruned.BLOCK):
        host = _read_chunk(source, idx, weights, validate)
        log_sums += np.log(np.maximum(host[:, weights > 0, cls].astype(np.float64), EPS)).sum(axis=1)
        cls_dev, w_dev = _replicate(np.int32(cls), mesh), _replicate(weights, mesh)
        prepared = None
        if iou_pass == "auto" and cls != probed:  # the first chunk of a class: the pruned kernel on a
            # sample of the ensembles (gathered lookups) decides for every chunk of the class
            prepared = lists(host, cls_dev)
            chunk_dev, top_c, top_v, bound, q = prepared
            sample = pruned_kernel(chunk_dev, top_c, top_v, bound, q, cls_dev, w_dev, probe_dev)
            use_pruned = _uncertified_share(_host(sample[3])[:probe.shape[0]], weights) <= DENSE_SWITCH
            probed = cls
        elif iou_pass != "auto":
            use_pruned = iou_pass == "pruned"
        if use_pruned and prepared is not None and probe.shape[0] == num_ens:
            # the sample was every ensemble: its statistics are the chunk's (the same with either lookup)
            pending = ("pruned", cls, weights, chunk_dev, sample)
        elif use_pruned:
            chunk_dev, top_c, top_v, bound, q = prepared or lists(host, cls_dev)
            values = table(chunk_dev, top_c) if table is not None else chunk_dev
            pending = ("pruned", cls, weights, chunk_dev,
                       pruned_kernel(values, top_c, top_v, bound, q, cls_dev, w_dev, members_dev))
        else:
            dense = _replicate(np.ascontiguousarray(host.transpose(0, 2, 1)), mesh)
            pending = ("dense", cls, weights, dense, dense_kernel(dense, cls_dev, w_dev, members_dev))
        if previous is not None:  # accumulate the previous chunk while this one computes
            finish(previous)
            bar.update()
        previous = pending
    finish(previous)
    bar.update()
    bar.close()
    return acc.acc


def _probe_rows(num_ens: int) -> np.ndarray:
    """Rows of the ensembles on which "auto" tries the pruned kernel per chunk: at most _PROBE_ENSEMBLES,
    spread evenly over the list (which is ordered by members, so a stride samples every source)."""
    return np.unique(np.linspace(0, num_ens - 1, min(num_ens, _PROBE_ENSEMBLES)).astype(np.int64))


def _bit_lanes(bits: np.ndarray) -> np.ndarray:
    """uint32 masks [...] -> their bits uint8 [..., 32], bit k (pixel k of the 32-pixel block) at [..., k]."""
    return np.unpackbits(bits.astype("<u4")[..., None].view(np.uint8), axis=-1, bitorder="little")


def _uncertified_share(bits: np.ndarray, weights: np.ndarray) -> float:
    """Share of the (ensemble, real pixel) pairs whose bit is set in uint32 masks [E, m/32]."""
    return float(_bit_lanes(bits).sum()) / max(1.0, bits.shape[0] * float((weights > 0).sum()))


# the fallback sends uncertified (ensemble, pixel) items in calls of exactly this many (padded): one
# compiled size (several power-of-two sizes cost 12 compiles, 2.3 s, in a headline call), per-item
# outputs [items, 2C + 5] floats, and a padded call costs well under a millisecond
_ITEMS = 1 << 13
_PAIRS = 1 << 16  # (ensemble, block) pairs unpacked at a time: at most 2M items, ~40 MB of host indices


def _dense_pixels(chunk, cls, weights, members, rows, blocks, bits, mesh: Mesh, acc) -> None:
    """The dense pass on the uncertified pixels of (ensemble ``rows``, 32-pixel ``blocks``) pairs: the bit
    masks ``bits`` (uint32) are unpacked into (ensemble, pixel) items, _PAIRS pairs at a time so that host
    memory stays bounded (a flat chunk can leave every pixel of every ensemble uncertified); chunk is
    pixel-major [N, m, C]."""
    step = int(np.lcm(mesh.size, pruned.ITEM_BATCH))
    padded = -(-_ITEMS // step) * step
    kernel = kernels.on_mesh(pruned.dense_pixel_stats, mesh, 4)
    cls_dev, w_dev = _replicate(np.int32(cls), mesh), _replicate(weights, mesh)
    for first in range(0, rows.size, _PAIRS):
        some = slice(first, first + _PAIRS)
        pair, lane = np.nonzero(_bit_lanes(bits[some]))  # row-major: items stay sorted by ensemble row
        item_rows = rows[some][pair]
        pixels = blocks[some][pair] * pruned.BLOCK + lane
        for start in range(0, item_rows.size, padded):
            stop = min(start + padded, item_rows.size)
            count = stop - start
            items = np.zeros((padded, members.shape[1] + 1), np.int32)
            items[:count, :-1] = members[item_rows[start:stop]]
            items[:count, -1] = pixels[start:stop]
            items[count:, -1] = -1  # padding: no pixel, no contribution
            out = kernel(chunk, cls_dev, w_dev, jax.device_put(items, NamedSharding(mesh, P(kernels.AXIS))))
            true, pred, spread = (_host(a, np.float64)[:count] for a in out)
            uniq, starts = np.unique(item_rows[start:stop], return_index=True)
            acc.add(cls, *(np.add.reduceat(a, starts, axis=0) for a in (true, pred, spread)), rows=uniq)


def _split_ties(chunk, cls, weights, members, plan: Plan, mesh: Mesh):
    """Exact statistics (ties split evenly) for a few ensembles; padded to a power of two to bound recompiles."""
    count = members.shape[0]
    padded = np.concatenate([members, np.repeat(members[:1], (1 << (count - 1).bit_length()) - count, 0)])
    batch = min(plan.batch, padded.shape[0])
    kernel = kernels.on_mesh(kernels.class_chunk_stats, mesh, 4, split_ties=True, batch=batch)
    out = kernel(chunk, _replicate(np.int32(cls), mesh), _replicate(weights, mesh),
                 _split_ensembles(padded, mesh, batch))
    return tuple(_host(a, np.float64)[:count] for a in out)


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


def _e_leep_only(q, members, plan: Plan, mesh: Mesh, num_classes: int, progress: bool) -> np.ndarray:
    """sum_i log p_ens(y_i | x_i) per ensemble from q[s, i] = p_s(y_i | x_i) [N, n], chunked over pixels."""
    group = kernels.LOG_GROUP
    # q is C times smaller per pixel than eep; 2048 pixels keep [N, m] in a core's cache (measured)
    chunk = -(-min(2048, plan.pixel_chunk * num_classes, q.shape[1]) // group) * group
    members_dev = _split_ensembles(members, mesh, plan.batch)
    kernel = kernels.on_mesh(kernels.log_mean_sums, mesh, 3, batch=plan.batch)
    total = np.zeros(members.shape[0])
    for start in tqdm(range(0, q.shape[1], chunk), disable=not progress, unit="chunk",
                      desc=f"E-LEEP of {members.shape[0]:,} ensembles"):
        part = q[:, start:start + chunk]
        weights = np.zeros(chunk, np.float32)
        weights[:part.shape[1]] = 1.0
        part = np.pad(part, ((0, 0), (0, chunk - part.shape[1])), mode="edge")
        total += _host(kernel(_replicate(part, mesh), _replicate(weights, mesh), members_dev),
                            np.float64)[: members.shape[0]]
    return total
