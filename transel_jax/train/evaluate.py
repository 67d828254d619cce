"""Single-scale mIoU from a confusion matrix accumulated across devices and hosts.

For K classes, ``confusion[t, p]`` counts non-void pixels of true class index ``t`` (label t + 1)
predicted as class index ``p``. Per class: ``IoU_c = TP_c / (TP_c + FP_c + FN_c)`` with
``TP_c = confusion[c, c]``, ``FP_c = sum_t confusion[t, c] - TP_c``, ``FN_c = sum_p confusion[c, p] - TP_c``;
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
from transel_jax.train import distributed, memo
from transel_jax.train.progress import progress

AXIS = distributed.AXIS


def confusion_matrix(labels: jax.Array, predictions: jax.Array, num_classes: int,
                     valid: jax.Array | None = None) -> jax.Array:
    """int32 [K, K] counts of (true class index, predicted class index) over valid non-void pixels.

    Args:
      labels: int [...] dataset labels, 0 = void, 1..K.
      predictions: int [...] predicted class indices 0..K-1 (logit channel argmax).
      num_classes: K.
      valid: optional bool [...] extra mask (e.g. padding examples), broadcast against ``labels``.
    """
    keep = labels > 0
    if valid is not None:
        keep = keep & jnp.broadcast_to(valid, labels.shape)
    flat = jnp.clip(labels - 1, 0, num_classes - 1) * num_classes + predictions
    counts = jnp.zeros(num_classes * num_classes, jnp.int32).at[flat.reshape(-1)].add(
        keep.reshape(-1).astype(jnp.int32))
    return counts.reshape(num_classes, num_classes)


def iou_from_confusion(confusion) -> tuple[float, np.ndarray]:
    """(mIoU, per-class IoU float64 [K] with NaN where the union is 0) from a [K, K] confusion matrix."""
    cm = np.asarray(confusion, np.float64)
    checks.check_rank(cm, "confusion", 2, "[K, K]")
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
    present = union > 0
    return (float(iou[present].mean()) if present.any() else float("nan")), iou


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
