"""Source-model outputs at sampled pixels: what the scoring engine consumes.

For a pixel sample (``sample.image``, ``sample.row``, ``sample.col``: int [n], image index and pixel
position at input resolution) ``predict_at_pixels`` runs the model on the sampled images, ``batch_size``
images at a time, and gathers at each pixel

- ``probs[i] = softmax(logits[image_i, row_i, col_i])`` float32 [K] (the model's own label space), and
- ``feats[i] = feats[image_i, (row_i * h) // H, (col_i * w) // W]`` float32 [D]: the backbone feature
  cell containing the pixel (h, w = feature-map size, H, W = image size).

Only one batch of logits/feature maps exists at a time; images are read lazily from an array or a source
(:class:`transel_jax.transfer.images.ImageReader`), and images of different sizes go into different
batches. The output row order is the sample's order.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from transel_jax import checks
from transel_jax.train.progress import progress
from transel_jax.transfer.images import ImageReader


def check_sample(sample, num_images: int) -> int:
    """Validate a PixelSample-like object (fields image, row, col: int [n]); returns n."""
    fields = [np.asarray(getattr(sample, f)) for f in ("image", "row", "col")]
    for name, arr in zip(("sample.image", "sample.row", "sample.col"), fields):
        checks.check_rank(arr, name, 1, "[n]")
        checks.check_integer(arr, name)
    n = fields[0].shape[0]
    for name, arr in zip(("sample.row", "sample.col"), fields[1:]):
        checks.check_dim(name, "n", arr.shape[0], n)
    checks.check_nonempty(fields[0], "sample.image")
    checks.check_labels(fields[0], "sample.image", 0, num_images - 1)
    checks.check_labels(fields[1], "sample.row", 0, np.iinfo(np.int32).max)
    checks.check_labels(fields[2], "sample.col", 0, np.iinfo(np.int32).max)
    return n


@functools.partial(jax.jit, static_argnames=("model",))
def _gather(model, variables, images, slot, row, col):
    """logits [m, K] and features [m, D] at (slot, row, col) of a batch of images [b, H, W, 3]."""
    logits, feats = model.apply(variables, images, train=False, return_features=True)
    H, W = images.shape[1:3]
    h, w = feats.shape[1:3]
    return logits[slot, row, col].astype(jnp.float32), feats[slot, (row * h) // H, (col * w) // W]


def _bucket(m: int) -> int:
    """Pad pixel counts to a power of two (at least 256) so few distinct shapes get compiled."""
    return max(256, 1 << (m - 1).bit_length())


def outputs_at_pixels(model, variables, images_or_source, sample, *, batch_size: int, info=None,
                      desc: str = "predict") -> tuple[np.ndarray, np.ndarray]:
    """(logits float32 [n, K], feats float32 [n, D]) at the sample's pixels (module docstring)."""
    checks.check_positive_int(batch_size, "batch_size")
    reader = ImageReader(images_or_source, info)
    n = check_sample(sample, len(reader))
    image_idx, rows, cols = (np.asarray(getattr(sample, f), np.int64) for f in ("image", "row", "col"))
    order = np.argsort(image_idx, kind="stable")
    sorted_idx = image_idx[order]
    logits_out = feats_out = None
    for batch_ids, images in _image_batches(reader, np.unique(image_idx), batch_size, desc):
        lo = np.searchsorted(sorted_idx, batch_ids[0], side="left")
        hi = np.searchsorted(sorted_idx, batch_ids[-1], side="right")
        pos = order[lo:hi]  # positions in the sample of the pixels of these images
        _check_positions(images.shape[1:3], rows[pos], cols[pos])
        logits, feats = _run_batch(model, variables, images, batch_size,
                                   np.searchsorted(batch_ids, image_idx[pos]), rows[pos], cols[pos])
        if logits_out is None:
            logits_out = np.zeros((n, logits.shape[-1]), np.float32)
            feats_out = np.zeros((n, feats.shape[-1]), np.float32)
        logits_out[pos], feats_out[pos] = logits, feats
    return logits_out, feats_out


def _run_batch(model, variables, images, batch_size, slot, row, col):
    """Pad images to ``batch_size`` and pixel lists to a bucket, gather, strip the padding."""
    m = len(slot)
    pad = lambda a: np.pad(np.asarray(a, np.int32), (0, _bucket(m) - m))  # noqa: E731
    images = np.concatenate([images, np.repeat(images[:1], batch_size - len(images), axis=0)])
    logits, feats = jax.device_get(_gather(model, variables, images, pad(slot), pad(row), pad(col)))
    return logits[:m], feats[:m]


def predict_at_pixels(model, variables, images_or_source, sample, *, batch_size: int,
                      info=None) -> tuple[np.ndarray, np.ndarray]:
    """(probs float32 [n, K] softmax over the model's K classes, feats float32 [n, D]) at sampled pixels.

    Args:
      model, variables: a segmenter of the models interface and its variables (eval mode is used).
      images_or_source: float [N, H, W, 3] normalised images, or uint8 images / a catalog source
        (then ``info`` gives the mean/std to normalise with).
      sample: a ``PixelSample`` (fields image, row, col: int [n]).
      batch_size: images per forward pass.
    """
    logits, feats = outputs_at_pixels(model, variables, images_or_source, sample, batch_size=batch_size,
                                      info=info)
    return np.asarray(jax.nn.softmax(logits, axis=-1), np.float32), feats


def _image_batches(reader, ids: np.ndarray, batch_size: int, desc: str):
    """Yield (ids int [b], images float32 [b, H, W, 3]): consecutive sorted ids, at most ``batch_size``
    per batch, a new batch wherever the image size changes. Each image is read once."""
    ids_batch, images = [], []
    for i in progress(ids, desc=desc, unit="img"):
        image = reader[int(i)]
        if images and (len(images) == batch_size or image.shape != images[0].shape):
            yield np.asarray(ids_batch), np.stack(images)
            ids_batch, images = [], []
        ids_batch.append(int(i))
        images.append(image)
    if images:
        yield np.asarray(ids_batch), np.stack(images)


def _check_positions(size, rows, cols) -> None:
    H, W = size
    if rows.max() >= H or cols.max() >= W:
        raise ValueError(f"sample.row/col: expected positions inside the {H}x{W} images, got up to "
                         f"({rows.max()}, {cols.max()})")
