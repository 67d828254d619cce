"""Test-set predictions of a fine-tuned model, computed once and reused for every ensemble.

``test_logits`` runs the model over ``pipeline.eval_batches`` (single scale, padded batches) and keeps
the logits of the real examples as float16 [T, H, W, K] (half the bytes; argmax and softmax of the
float16 values are what every later stage uses). ``miou`` scores predictions against labels with the
trainer's confusion-matrix definition (:func:`transel_jax.train.evaluate.iou_from_confusion`).
"""
from __future__ import annotations

import functools

import jax
import numpy as np

from transel_jax.data import pipeline
from transel_jax.train import phases
from transel_jax.train.progress import progress
from transel_jax.train.evaluate import iou_from_confusion


@functools.partial(jax.jit, static_argnames=("model",))
def _logits(model, variables, images):
    return model.apply(variables, images, train=False)


def test_logits(model, variables, source, info, *, batch_size: int, desc: str = "test predictions"
                ) -> tuple[np.ndarray, np.ndarray]:
    """(logits float16 [T, H, W, K], labels uint8/int32 [T, H, W] with 0 = void) over ``source``."""
    logits, labels = [], []
    total = -(-len(source) // batch_size)
    with phases.phase("predict"):
        for batch in progress(pipeline.eval_batches(source, info, batch_size=batch_size), total=total,
                              desc=desc):
            out = np.asarray(jax.device_get(_logits(model, variables, batch["image"])), np.float16)
            logits.append(out[batch["mask"]])
            labels.append(batch["label"][batch["mask"]])
    return np.concatenate(logits), np.concatenate(labels)


def confusion(labels, predictions, num_classes: int) -> np.ndarray:
    """int64 [K, K] counts of (label - 1, predicted class index) over non-void pixels (label > 0)."""
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    predictions = np.asarray(predictions).reshape(-1).astype(np.int64)
    keep = labels > 0
    flat = (labels[keep] - 1) * num_classes + predictions[keep]
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def miou(labels, predictions, num_classes: int) -> float:
    """Mean IoU over classes with a non-zero union (the trainer's evaluation definition)."""
    return iou_from_confusion(confusion(labels, predictions, num_classes))[0]
