"""Single-scale mIoU of a model, from a confusion matrix accumulated across devices and hosts.

The confusion and IoU definitions live in :mod:`transel_jax.evaluation.miou`; this module runs the model.

mIoU is the mean over the classes with a non-zero union (absent and never-predicted classes are skipped,
their IoU reported as NaN). Void pixels (label 0) and padding examples (``mask`` False) are ignored.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Iterable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh, PartitionSpec as P

from transel_jax import checks
from transel_jax.evaluation.miou import confusion_matrix, iou_from_confusion
from transel_jax.train import distributed, memo
from transel_jax.train.progress import progress

AXIS = distributed.AXIS


@dataclasses.dataclass(frozen=True)
class EvalResult:
    miou: float
    per_class_iou: np.ndarray  # float64 [K], NaN for classes with an empty union
    confusion: np.ndarray      # int64 [K, K], rows = true class, columns = prediction
    num_pixels: int

    def to_json(self) -> dict:
        return {"miou": self.miou, "num_pixels": self.num_pixels,
                "per_class_iou": [None if np.isnan(v) else float(v) for v in self.per_class_iou]}


def _per_device_confusion(variables, batch, *, model, num_classes):
    logits = model.apply(variables, batch["image"], train=False)
    cm = confusion_matrix(batch["label"], jnp.argmax(logits, axis=-1), num_classes,
                          valid=batch["mask"][:, None, None])
    return lax.psum(cm, AXIS)


@functools.lru_cache(maxsize=64)
def make_eval_step(model, mesh: Mesh, num_classes: int):
    """Compiled ``(variables, batch) -> int32 [K, K]`` confusion of one global batch, psummed over 'data'.

    ``batch = {"image": float [B, H, W, 3], "label": int [B, H, W], "mask": bool [B]}`` sharded on 'data'.
    Memoised on its (hashable) arguments: evaluating another model of one architecture and class count
    reuses the traced and compiled step.
    """
    fn = functools.partial(_per_device_confusion, model=model, num_classes=num_classes)
    return jax.jit(jax.shard_map(fn, mesh=mesh, in_specs=(P(), P(AXIS)), out_specs=P()))


def evaluate(model, variables, batches: Iterable[dict], *, num_classes: int, mesh: Mesh | None = None,
             total: int | None = None) -> EvalResult:
    """mIoU of ``model`` over host-local batches (e.g. ``pipeline.eval_batches``), all devices and hosts.

    Each batch is this host's share ``{"image", "label", "mask"}``; the global batch (over hosts) must
    divide by the device count. Per-batch int32 counts are summed on the host in int64.
    """
    checks.check_positive_int(num_classes, "num_classes", minimum=2)
    mesh = distributed.make_mesh() if mesh is None else mesh
    step = memo.call(make_eval_step, model, mesh, num_classes)
    variables = distributed.replicate(variables, mesh)
    total_cm = np.zeros((num_classes, num_classes), np.int64)
    for batch in progress(batches, desc="eval", total=total):
        batch = dict(batch)
        batch.setdefault("mask", np.ones(np.shape(batch["image"])[0], bool))
        global_size = np.shape(batch["image"])[0] * jax.process_count()
        distributed.check_batch_divides(global_size, mesh, "eval batch size")
        total_cm += np.asarray(step(variables, distributed.shard_batch(batch, mesh)), np.int64)
    miou, iou = iou_from_confusion(total_cm)
    return EvalResult(miou=miou, per_class_iou=iou, confusion=total_cm, num_pixels=int(total_cm.sum()))
