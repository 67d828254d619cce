"""``transel score``: rank every candidate ensemble from an .npz of per-source predictions.

The .npz holds ``labels`` [n] and either ``eep`` [N, n, C] (EEP predictions already in the target label
space) or ``probs_0`` ... ``probs_{N-1}`` ([n, Z_s] source-label-space softmax, label spaces may differ),
and optionally ``names`` [N] (source names), ``base_terms`` [N] (per-source P*N*C for BASE) and
``num_classes`` (C; default max label + 1). Labels are class indices 0..C-1, or dataset labels 1..C
with 0 = void when ``--dataset-labels`` is given (void pixels are then dropped).

``--eep PATH.npy`` reads the [N, n, C] EEP (float16 or float32) from an .npy file as a memory map, chunk
by chunk, instead of from the .npz (which then needs only ``labels``): inputs larger than memory. See
``transel_jax.ensembles.source`` for the layout that streams well (pixels sorted by label).

Every argument and the input's contents are checked before any scoring starts. On CPU the command
exposes one XLA device per core (``--xla_force_host_platform_device_count``) unless XLA_FLAGS already
sets a device count.
"""
from __future__ import annotations

import argparse
import os
import zipfile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help=".npz with labels and eep or probs_0..probs_{N-1}")
    parser.add_argument("--out", required=True, help="CSV to write (ranked, best first); provenance goes to OUT.meta.json")
    parser.add_argument("--eep", default=None, help="an .npy [N, n, C] EEP file read as a memory map (instead of "
                                                    "the .npz's eep or probs_*)")
    parser.add_argument("--size", type=int, default=3, help="ensemble size S (all C(N, S) ensembles); default 3")
    parser.add_argument("--metrics", default=None,
                        help="comma-separated metrics (default: ms_leep,e_leep,iou_eep,soft_iou_eep, plus base "
                             "when the input has base_terms)")
    parser.add_argument("--rank-by", default="soft_iou_eep", help="metric that orders the table")
    parser.add_argument("--dataset-labels", action="store_true", help="labels are 1..C with 0 = void")
    parser.add_argument("--memory-budget-mb", type=int, default=1024, help="device working memory for chunking")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def use_every_core() -> None:
    """Give XLA one CPU device per core before jax's backend starts, unless XLA_FLAGS sets a count."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags:
        return
    import sys

    bridge = sys.modules.get("jax._src.xla_bridge")
    if bridge is not None and bridge.backends_are_initialized():
        return
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={os.cpu_count() or 1}".strip()


def check_out_path(out: str) -> None:
    """The CSV path must name a file in an existing folder (checked before scoring)."""
    if os.path.isdir(out):
        raise ValueError(f"--out: expected a CSV file path, got an existing directory {out!r}")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise ValueError(f"--out: expected a path in an existing folder, got {out!r} (folder {folder!r} does not exist)")


def _labels(raw, path: str):
    import numpy as np

    if raw.ndim != 1:
        raise ValueError(f"labels: expected a 1-d array [n] in {path}, got shape {raw.shape}")
    if np.issubdtype(raw.dtype, np.floating):
        if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            bad = raw[~np.isfinite(raw) | (raw != np.round(raw))][:3]
            raise ValueError(f"labels: expected integer class labels in {path}, got non-integral values such as "
                             f"{bad.tolist()}")
    elif not np.issubdtype(raw.dtype, np.integer):
        raise TypeError(f"labels: expected integer class labels in {path}, got dtype {raw.dtype}")
    return raw.astype(np.int64)


def _probs_keys(files, path: str) -> list[str]:
    keys = [k for k in files if k.startswith("probs_")]
    bad = [k for k in keys if not k[len("probs_"):].isdigit()]
    if bad:
        raise ValueError(f"input: expected keys probs_0, probs_1, ... (an integer after 'probs_') in {path}, got {bad}")
    keys.sort(key=lambda k: int(k[len("probs_"):]))
    expected = [f"probs_{i}" for i in range(len(keys))]
    if keys != expected:
        raise ValueError(f"input: expected consecutive keys {expected} in {path}, got {keys}")
    return keys


class _Pixels:
    """A chunked source restricted to the pixels ``keep`` (ascending): no copy of the kept array."""

    def __init__(self, source, keep):
        self.source, self.keep = source, keep
        self.shape = (source.shape[0], keep.size, source.shape[2])
        self.dtype = source.dtype

    def read(self, pixels):
        return self.source.read(self.keep[pixels])


def load_npz(path: str, dataset_labels: bool, eep_path: str | None = None):
    """-> (eep [N, n, C] array or chunked source, labels [n] 0..C-1, names or None, base_terms or None)."""
    import numpy as np

    from transel_jax.ensembles.source import as_source
    from transel_jax.metrics.eep import eep_stack

    if not os.path.isfile(path):
        raise FileNotFoundError(2, "input not found", path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"input: expected an .npz archive (numpy.savez), got a file that is not one: {path}")
    with np.load(path, allow_pickle=False) as data:
        if "labels" not in data:
            raise ValueError(f"input: expected an array 'labels' in {path}, got arrays {sorted(data.files)}")
        labels = _labels(data["labels"], path)
        keep = None
        if dataset_labels:
            keep = np.nonzero(labels != 0)[0]
            if keep.size == 0:
                raise ValueError(f"labels: expected at least one non-void pixel (label > 0) under --dataset-labels "
                                 f"in {path}, got {labels.size} pixels, all void (0)")
            if labels.min() < 0:
                raise ValueError(f"labels: expected dataset labels >= 0 (0 = void), got minimum {labels.min()}")
            labels = labels[keep] - 1
        names = [str(s) for s in data["names"]] if "names" in data else None
        base = data["base_terms"] if "base_terms" in data else None
        if eep_path is not None:
            eep = as_source(eep_path, "--eep")
            raw_n = data["labels"].shape[0]
            if len(eep.shape) != 3 or eep.shape[1] != raw_n:
                raise ValueError(f"--eep: expected an [N, n, C] array with n = {raw_n} (the labels), got shape "
                                 f"{tuple(eep.shape)}")
            if keep is not None:
                eep = _Pixels(eep, keep)
        elif "eep" in data:
            eep = data["eep"]
            if eep.ndim != 3 or eep.shape[1] != data["labels"].shape[0]:
                raise ValueError(f"input: expected 'eep' of shape [N, n, C] with n = {data['labels'].shape[0]} "
                                 f"(the labels) in {path}, got shape {eep.shape}")
            if keep is not None:
                eep = eep[:, keep]
        else:
            keys = _probs_keys(data.files, path)
            if not keys:
                raise ValueError(f"input: expected 'eep' or 'probs_0', 'probs_1', ... in {path}, got {sorted(data.files)}")
            num_classes = int(data["num_classes"]) if "num_classes" in data else int(labels.max()) + 1
            probs = [data[k] for k in keys]
            for k, p in zip(keys, probs):
                if p.ndim != 2 or p.shape[0] != data["labels"].shape[0]:
                    raise ValueError(f"input: expected {k} of shape [n, Z] with n = {data['labels'].shape[0]} "
                                     f"(the labels) in {path}, got shape {p.shape}")
            eep = np.asarray(eep_stack([p if keep is None else p[keep] for p in probs], labels, num_classes))
    return eep, labels, names, base


def main(args) -> int:
    use_every_core()
    from transel_jax import checks
    from transel_jax.ensembles import scorer
    from transel_jax.ensembles.scorer import (
        DEFAULT_METRICS,
        ENSEMBLE_METRICS,
        check_base_terms,
    )
    from transel_jax.provenance import file_sha256, provenance

    checks.check_positive_int(args.memory_budget_mb, "--memory-budget-mb")
    checks.check_positive_int(args.size, "--size")
    check_out_path(args.out)
    if args.metrics is not None:
        metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
        if not metrics:
            raise ValueError(f"--metrics: expected comma-separated names from {list(ENSEMBLE_METRICS)}, got {args.metrics!r}")
        for m in metrics:
            checks.check_choice(m, "--metrics", ENSEMBLE_METRICS)
    eep, labels, names, base = load_npz(args.input, args.dataset_labels, args.eep)
    if args.metrics is None:
        metrics = DEFAULT_METRICS + (("base",) if base is not None else ())
    if "base" in metrics:
        base = check_base_terms(base, int(eep.shape[0]))
    if args.rank_by not in metrics:
        raise ValueError(f"--rank-by: expected one of the scored metrics {list(metrics)}, got {args.rank_by!r}")
    result = scorer.score_ensembles(eep, labels, args.size, metrics=metrics, base_terms=base, source_names=names,
                             memory_budget=args.memory_budget_mb << 20, progress=not args.no_progress)
    shape = tuple(eep.shape)
    result.to_csv(args.out, rank_by=args.rank_by, provenance=provenance(
        input=args.input, input_sha256=file_sha256(args.input), eep=args.eep, size=args.size,
        metrics=list(metrics), sources=int(shape[0]), pixels=int(shape[1]), classes=int(shape[2])))
    best = result.order(args.rank_by)[0]
    print(f"scored {len(result):,} ensembles of {args.size} from {shape[0]} sources on {shape[1]:,} pixels; "
          f"best by {args.rank_by}: {' + '.join(result.members(best))} "
          f"({result.scores[args.rank_by][best]:.4f}); table: {args.out}")
    return 0
