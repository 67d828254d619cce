"""Test-set predictions stored once per fine-tuned model, and the test mIoU of models and ensembles from them.

``test_logits`` runs a model over ``pipeline.eval_batches`` (single scale, padded batches) and keeps the
logits of the real examples *at the model's output stride*, float16 [T, h, w, K] (h = H / 4 for HRNetV2:
1/16 of the full-resolution bytes, and half again for float16). :func:`upsample` restores [m, H, W, K]
float32 for a chunk of images with the model's own bilinear upsampling; every mIoU below reads predictions
through it, chunk by chunk, so full-resolution logits of a whole test set are never held.

- one model: :func:`class_predictions` (argmax class indices), scored with :func:`transel_jax.evaluation.miou.miou`;
- every ensemble of a set of members (papers/000 Sec. 4.1, the "actual" ensemble mIoU): the prediction of
  ensemble e = (s_1..s_S) at a pixel is argmax_c (1/S) sum_k softmax(z_{s_k})[c]; :func:`ensemble_mious`
  computes member probabilities once per chunk ([N, m, K]) and a jitted kernel
  (:func:`ensemble_confusions`) maps over the ensembles to accumulate each one's [K, K] confusion;
- an ensemble with a trained head (000 Sec. 5.1): :func:`head_miou` (:func:`head_confusion`),
  argmax_c (1/S) sum_s softmax(w[s] z_s + b[s])[c].

Confusion -> IoU -> mIoU is :mod:`transel_jax.evaluation.miou`'s.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from transel_jax.data import pipeline
from transel_jax.evaluation.miou import confusion, iou_from_confusion
from transel_jax.train import phases
from transel_jax.train.progress import progress


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


def class_predictions(logits, size: tuple[int, int], *, images_per_chunk: int = 8) -> np.ndarray:
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


@functools.partial(jax.jit, static_argnames=("num_classes", "batch"))
def ensemble_confusions(probs, labels, members, *, num_classes: int, batch: int = 8):
    """int32 [E, K, K] confusion of every ensemble over one chunk of pixels.

    Args:
      probs: float [N, m, K] member class probabilities at m pixels.
      labels: int [m] class indices 0..K-1, or -1 for pixels to ignore (void, padding).
      members: int [E, S] member indices of each ensemble.
    """
    k = num_classes
    overflow = k * k  # ignored pixels land in an extra bin that is dropped

    def one(row):
        pred = jnp.argmax(jnp.mean(probs[row], axis=0), axis=-1)
        flat = jnp.where(labels >= 0, labels * k + pred, overflow)
        return jnp.bincount(flat, length=overflow + 1)[:overflow].reshape(k, k)

    return jax.lax.map(one, members, batch_size=batch)


def ensemble_mious(member_logits, labels, members, *, images_per_chunk: int = 8, progress: bool = True
                   ) -> np.ndarray:
    """float64 [E] test mIoU of every ensemble (averaged member probabilities).

    Args:
      member_logits: sequence of N float [T, h, w, K] stored test logits at the models' output stride
        (one per member candidate; :func:`upsample` brings each chunk to the labels' [H, W]).
      labels: int [T, H, W] dataset labels (0 = void, 1..K).
      members: int [E, S] indices into ``member_logits``.
    """
    n_images, num_classes = labels.shape[0], member_logits[0].shape[-1]
    members = jnp.asarray(members, jnp.int32)
    total = np.zeros((members.shape[0], num_classes, num_classes), np.int64)
    for start in tqdm(range(0, n_images, images_per_chunk), desc="ensemble mIoU", unit="chunk", leave=False,
                      disable=not progress):
        stop = min(start + images_per_chunk, n_images)
        pad = images_per_chunk - (stop - start)  # fixed chunk shape: one compile
        size = labels.shape[1:3]
        probs = np.stack([_pad(jax.nn.softmax(upsample(z[start:stop], size), axis=-1), pad)
                          for z in member_logits])
        lab = _pad(np.asarray(labels[start:stop], np.int32) - 1, pad, value=-1)
        probs = probs.reshape(len(member_logits), -1, num_classes)
        total += np.asarray(ensemble_confusions(probs, lab.reshape(-1), members, num_classes=num_classes))
    return np.array([iou_from_confusion(cm)[0] for cm in total])


def _pad(x, pad: int, value=0.0):
    x = np.asarray(x)
    return x if pad == 0 else np.concatenate([x, np.full((pad, *x.shape[1:]), value, x.dtype)])


@functools.partial(jax.jit, static_argnames=("num_members", "num_classes"))
def _head_argmax(head_params, z, *, num_members: int, num_classes: int):
    from transel_jax.models import EnsembleHead

    return jnp.argmax(EnsembleHead(num_members, num_classes).apply({"params": head_params}, z, log=True), axis=-1)


def head_confusion(head_params: dict, member_logits, labels, *, images_per_chunk: int = 8) -> np.ndarray:
    """int64 [K, K] confusion of the ensemble head's prediction argmax_c (1/S) sum_s softmax(w[s] z_s + b[s])[c].

    head_params: {"weight", "bias"} float [S, K]; member_logits: S arrays float [T, h, w, K] stored at the
    members' output stride (upsampled chunk by chunk to the labels' size); labels: int [T, H, W] (0 = void).
    With w = 1, b = 0 it is the plain average's confusion.
    """
    num_members, num_classes = np.shape(head_params["weight"])
    total = np.zeros((num_classes, num_classes), np.int64)
    for start in range(0, labels.shape[0], images_per_chunk):
        z = jnp.stack([upsample(m[start:start + images_per_chunk], labels.shape[1:3]) for m in member_logits],
                      axis=-2)
        pred = _head_argmax(head_params, z, num_members=int(num_members), num_classes=int(num_classes))
        total += confusion(labels[start:start + images_per_chunk], np.asarray(pred), num_classes)
    return total


def head_miou(head_params: dict, member_logits, labels, *, images_per_chunk: int = 8) -> float:
    """Test mIoU of the ensemble head (:func:`head_confusion`, same arguments)."""
    return iou_from_confusion(head_confusion(head_params, member_logits, labels,
                                             images_per_chunk=images_per_chunk))[0]


def disagreement(member_logits, labels, *, images_per_chunk: int = 8) -> np.ndarray:
    """float64 [S, S]: fraction of non-void test pixels on which members i and j predict different classes.

    member_logits: S arrays float [T, h, w, K] stored at the output stride (upsampled chunk by chunk to the
    labels' size); labels: int [T, H, W] (0 = void, only to mask pixels). The diagonal is 0. How similar
    an ensemble's members are: an ensemble of near-identical members cannot beat its best member by much.
    """
    s = len(member_logits)
    counts = np.zeros((s, s), np.int64)
    total = 0
    size = labels.shape[1:3]
    for start in range(0, labels.shape[0], images_per_chunk):
        keep = np.asarray(labels[start:start + images_per_chunk]) > 0
        preds = [np.asarray(jnp.argmax(upsample(m[start:start + images_per_chunk], size), axis=-1))[keep]
                 for m in member_logits]
        total += int(keep.sum())
        for i in range(s):
            for j in range(i + 1, s):
                counts[i, j] += int(np.count_nonzero(preds[i] != preds[j]))
    counts = counts + counts.T
    return counts / max(total, 1)
