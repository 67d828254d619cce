"""Mean IoU: the one home of confusion -> per-class IoU -> mIoU, for jitted code and for float64 host code.

For K classes, ``confusion[t, p]`` counts non-void pixels of true class index ``t`` (dataset label t + 1)
predicted as class index ``p``. Per class ``IoU_c = TP_c / (TP_c + FP_c + FN_c)`` with ``TP_c =
confusion[c, c]``, ``FP_c = sum_t confusion[t, c] - TP_c`` and ``FN_c = sum_p confusion[c, p] - TP_c``;
mIoU is the mean over the classes whose union ``TP_c + FP_c + FN_c`` is non-zero (a class absent from the
labels and never predicted is skipped). The same "mean over non-zero unions" rule turns the ensemble
metrics' per-class sufficient statistics (hard or soft TP and union) into IoU-EEP and SoftIoU-EEP.

Two backends with one definition:

- jitted (``jnp``): :func:`confusion_matrix`, :func:`mean_iou` (any leading batch axes);
- host (``numpy``, float64 / int64): :func:`confusion`, :func:`iou_from_confusion`, :func:`mean_iou_np`.

>>> import numpy as np
>>> cm = np.array([[3, 1], [0, 4]])
>>> round(iou_from_confusion(cm)[0], 4)       # IoU_0 = 3/4, IoU_1 = 4/5
0.775
>>> float(mean_iou_np(np.array([3.0, 4.0]), np.array([4.0, 5.0])))
0.775
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def confusion_matrix(labels, predictions, num_classes: int, valid=None):
    """int32 [K, K] counts of (true class index, predicted class index) over valid non-void pixels (jnp).

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


def mean_iou(tp, union):
    """float [...]: mean over the last axis of ``tp / union`` where ``union > 0`` (0 if none), in jnp.

    ``tp``, ``union``: float [..., K] per-class true positives and unions (TP + FP + FN).
    """
    valid = union > 0
    iou = jnp.where(valid, tp / jnp.where(valid, union, 1.0), 0.0)
    return jnp.sum(iou, axis=-1) / jnp.maximum(jnp.sum(valid, axis=-1), 1)


def confusion(labels, predictions, num_classes: int) -> np.ndarray:
    """int64 [K, K] counts of (label - 1, predicted class index) over non-void pixels (label > 0), numpy.

    ``labels``: int [...] dataset labels (0 = void, 1..K); ``predictions``: int [...] class indices 0..K-1.
    """
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    predictions = np.asarray(predictions).reshape(-1).astype(np.int64)
    keep = labels > 0
    flat = (labels[keep] - 1) * num_classes + predictions[keep]
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def iou_from_confusion(confusion) -> tuple[float, np.ndarray]:
    """(mIoU, per-class IoU float64 [K] with NaN where the union is 0) from a [K, K] confusion matrix."""
    from transel_jax import checks

    cm = np.asarray(confusion, np.float64)
    checks.check_rank(cm, "confusion", 2, "[K, K]")
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
    present = union > 0
    return (float(iou[present].mean()) if present.any() else float("nan")), iou


def miou(labels, predictions, num_classes: int) -> float:
    """Mean IoU of class-index ``predictions`` against dataset ``labels`` (0 = void), numpy."""
    return iou_from_confusion(confusion(labels, predictions, num_classes))[0]


def mean_iou_np(tp, union, *, atol: float = 0.0) -> np.ndarray:
    """float64 [...]: mean over the last axis of ``tp / union`` where ``union > atol`` (0 if none).

    ``atol`` lets float sums of soft statistics treat round-off as empty: the batched scorer passes
    1e-9, since a soft union of a class absent from both labels and predictions is a sum of exact zeros
    plus at most round-off; negative round-off is clipped to 0 first.
    """
    union = np.maximum(np.asarray(union, np.float64), 0.0)
    tp = np.asarray(tp, np.float64)
    valid = union > atol
    iou = np.where(valid, tp / np.where(valid, union, 1.0), 0.0)
    return iou.sum(axis=-1) / np.maximum(valid.sum(axis=-1), 1)
