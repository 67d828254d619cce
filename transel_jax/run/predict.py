"""Test-set predictions of a fine-tuned model, computed once and reused for every ensemble.

``test_logits`` runs the model over ``pipeline.eval_batches`` (single scale, padded batches) and keeps
the logits of the real examples *at the model's output stride*, float16 [T, h, w, K] (h = H / 4 for
HRNetV2: 1/16 of the full-resolution bytes, and half again for float16). :func:`upsample` restores
[m, H, W, K] float32 for a chunk of images with the model's own bilinear upsampling; every later stage
(mIoU, ensemble mIoU, ensemble head) reads predictions through it, chunk by chunk, so full-resolution
logits of a whole test set are never held. ``miou`` scores predictions against labels with the trainer's
confusion-matrix definition (:func:`transel_jax.train.evaluate.iou_from_confusion`).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from transel_jax.data import pipeline
from transel_jax.train import phases
from transel_jax.train.progress import progress
from transel_jax.train.evaluate import iou_from_confusion


@functools.partial(jax.jit, static_argnames=("model",))
def _logits(model, variables, images):
    return model.apply(variables, images, train=False, upsample=False)


@functools.partial(jax.jit, static_argnames=("size",))
def _upsample(logits, size):
    from transel_jax.models.layers import resize_bilinear

    return resize_bilinear(logits.astype(jnp.float32), *size)


def upsample(logits, size: tuple[int, int]) -> jax.Array:
    """float32 [m, H, W, K]: stored stride logits [m, h, w, K] bilinearly upsampled to ``size`` = (H, W)."""
    return _upsample(jnp.asarray(logits), tuple(int(v) for v in size))


def predictions(logits, size: tuple[int, int], *, images_per_chunk: int = 8) -> np.ndarray:
    """int [T, H, W] argmax class indices of stored stride logits [T, h, w, K], chunk by chunk."""
    return np.concatenate([np.asarray(jnp.argmax(upsample(logits[i:i + images_per_chunk], size), axis=-1))
                           for i in range(0, len(logits), images_per_chunk)])


def test_logits(model, variables, source, info, *, batch_size: int, desc: str = "test predictions"
                ) -> tuple[np.ndarray, np.ndarray]:
    """(logits float16 [T, h, w, K] at the model's output stride, labels uint8/int32 [T, H, W] with
    0 = void) over ``source``."""
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
