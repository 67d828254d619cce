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

Any other model joins through the predict protocol, ``predict(images uint8 [B, H, W, 3]) -> (probs float32
[B, h, w, Z], feats float32 [B, h', w', D] or None)``: :func:`predict_fn_at_pixels` runs such a function at
sampled pixels (bilinear probabilities when the prediction grid is smaller than the image), and
:func:`segmenter_predict_fn` turns a segmenter + variables + normalisation into one.
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


# --------------------------------------------------------------------------------------------------------
# The predict protocol: any model as ``predict(images uint8 [B, H, W, 3]) -> (probs, feats or None)``.
# --------------------------------------------------------------------------------------------------------

@functools.partial(jax.jit, static_argnames=("model",))
def _forward_probs(model, variables, images):
    """softmax(logits) [b, H, W, K] and features [b, h, w, D] of normalised images [b, H, W, 3]."""
    logits, feats = model.apply(variables, images, train=False, return_features=True)
    return jax.nn.softmax(logits.astype(jnp.float32), axis=-1), feats.astype(jnp.float32)


def segmenter_predict_fn(model, variables, *, mean, std):
    """A segmenter of the models interface as a protocol predict function.

    Returns ``predict(images uint8 [B, H, W, 3]) -> (probs float32 [B, H, W, K], feats float32 [B, h, w, D])``:
    images are normalised as ``(x - mean) / std`` (per channel, 0..255 scale, in float32 numpy exactly as
    :class:`~transel_jax.transfer.images.ImageReader` does), ``probs`` is the softmax of the upsampled
    logits (channel k = the model's class k, i.e. dataset label k + 1), ``feats`` the backbone features.
    The forward pass is jitted (one compile per input shape). Through :func:`predict_fn_at_pixels` it gives
    the same values as :func:`predict_at_pixels` with ``info`` carrying that mean/std.
    """
    mean = np.asarray(mean, np.float32).reshape(3)
    std = np.asarray(std, np.float32).reshape(3)

    def predict(images):
        images = np.asarray(images)
        checks.check_rank(images, "images", 4, "[B, H, W, 3]")
        if images.dtype != np.uint8 or images.shape[-1] != 3:
            raise TypeError(f"images: expected uint8 [B, H, W, 3], got {images.dtype} {images.shape}")
        x = (images.astype(np.float32) - mean) / std
        probs, feats = jax.device_get(_forward_probs(model, variables, x))
        return np.asarray(probs, np.float32), np.asarray(feats, np.float32)

    return predict


class _RawImages:
    """Random access to uint8 images [H, W, 3] from a uint8 array [N, H, W, 3] or a source (``["image"]``)."""

    def __init__(self, images_or_source):
        if hasattr(images_or_source, "shape") and hasattr(images_or_source, "dtype"):
            arr = np.asarray(images_or_source)
            checks.check_rank(arr, "images", 4, "[N, H, W, 3]")
            if arr.dtype != np.uint8 or arr.shape[-1] != 3:
                raise TypeError("images: expected uint8 images [N, H, W, 3] (a protocol predict function "
                                f"normalises them itself), got {arr.dtype} {arr.shape}")
            self._get = lambda i: arr[i]  # noqa: E731
            self._len = len(arr)
        elif hasattr(images_or_source, "__len__") and hasattr(images_or_source, "__getitem__"):
            self._get = lambda i: _uint8_image(images_or_source[i]["image"], i)  # noqa: E731
            self._len = len(images_or_source)
        else:
            raise TypeError("images_or_source: expected a uint8 array [N, H, W, 3] or a random-access source, "
                            f"got {type(images_or_source).__name__}")

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index: int) -> np.ndarray:
        return self._get(index)


def _uint8_image(image, index: int) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise TypeError(f"source[{index}]['image']: expected uint8 [H, W, 3], got {image.dtype} {image.shape}")
    return image


def predict_fn_at_pixels(predict, images_or_source, sample, *, batch_size: int, name: str = "predict",
                         desc: str = "predict") -> tuple[np.ndarray, np.ndarray | None]:
    """(probs float32 [n, Z], feats float32 [n, D] or None) of a protocol predict function at sampled pixels.

    ``predict(images uint8 [B, H, W, 3]) -> (probs [B, h, w, Z], feats [B, h', w', D] or None)`` (numpy or
    jax arrays) runs over the sampled images only, ``batch_size`` at a time; images of different sizes
    go into different batches, and a short batch is padded to ``batch_size`` by repeating its first image
    (one compile per image size for a jitted ``predict``). Pixel (r, c) of an H x W image maps to

    - probs: the value at (r, c) when (h, w) == (H, W); otherwise bilinear interpolation at the pixel
      centre, half-pixel convention: y = (r + 0.5) h / H - 0.5 clamped to [0, h - 1] (likewise x), as
      ``jax.image.resize(probs, (H, W), "bilinear")`` upsamples; a convex combination of distributions is a
      distribution, so rows still sum to 1;
    - feats: the cell containing the pixel, ``feats[(r h') // H, (c w') // W]``, as :func:`predict_at_pixels`.

    Args:
      predict: the protocol function.
      images_or_source: uint8 images [N, H, W, 3], or a random-access source with ``src[i]["image"]``
        uint8 [H, W, 3] (sizes may differ).
      sample: a ``PixelSample`` (fields image, row, col: int [n]); output rows follow its order.
      batch_size: images per call of ``predict``.
      name: the model's name, used in error messages.
    """
    checks.check_positive_int(batch_size, "batch_size")
    reader = _RawImages(images_or_source)
    n = check_sample(sample, len(reader))
    image_idx, rows, cols = (np.asarray(getattr(sample, f), np.int64) for f in ("image", "row", "col"))
    order = np.argsort(image_idx, kind="stable")
    sorted_idx = image_idx[order]
    probs_out = feats_out = None
    has_feats = None
    for batch_ids, images in _image_batches(reader, np.unique(image_idx), batch_size, desc):
        lo = np.searchsorted(sorted_idx, batch_ids[0], side="left")
        hi = np.searchsorted(sorted_idx, batch_ids[-1], side="right")
        pos = order[lo:hi]
        _check_positions(images.shape[1:3], rows[pos], cols[pos])
        b = len(images)
        padded = np.concatenate([images, np.repeat(images[:1], batch_size - b, axis=0)])
        probs, feats = _protocol_outputs(predict(padded), name, batch_size)
        if has_feats is None:
            has_feats = feats is not None
            probs_out = np.zeros((n, probs.shape[-1]), np.float32)
            feats_out = np.zeros((n, feats.shape[-1]), np.float32) if has_feats else None
        _check_consistent(name, probs, feats, probs_out, feats_out)
        slot = np.searchsorted(batch_ids, image_idx[pos])
        probs_out[pos] = _bilinear_at(probs[:b], slot, rows[pos], cols[pos], images.shape[1:3])
        if has_feats:
            f = feats[:b]
            (H, W), (h, w) = images.shape[1:3], f.shape[1:3]
            feats_out[pos] = f[slot, (rows[pos] * h) // H, (cols[pos] * w) // W]
    return probs_out, feats_out


def _protocol_outputs(out, name: str, batch: int):
    """(probs float32 [B, h, w, Z], feats float32 [B, h', w', D] or None) from a predict function's output."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = f"a {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        raise ValueError(f"model {name!r}: predict must return (probs, feats or None), got {got}")
    probs = _map(out[0], f"probs [{batch}, h, w, Z]", "probs", name, batch)
    feats = None if out[1] is None else _map(out[1], f"feats [{batch}, h', w', D] or None", "feats", name, batch)
    return probs, feats


def _map(x, expected: str, what: str, name: str, batch: int) -> np.ndarray:
    """A [B, h, w, K] floating map as float32, or a clear error naming the model."""
    arr = np.asarray(x)
    if arr.ndim != 4 or arr.shape[0] != batch or min(arr.shape) == 0:
        raise ValueError(f"model {name!r}: expected {expected} for a batch of {batch} images, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"model {name!r}: expected floating {what}, got dtype {arr.dtype}")
    return arr.astype(np.float32, copy=False)


def _check_consistent(name, probs, feats, probs_out, feats_out) -> None:
    if probs.shape[-1] != probs_out.shape[-1]:
        raise ValueError(f"model {name!r}: probs have {probs.shape[-1]} classes in this batch, "
                         f"{probs_out.shape[-1]} in an earlier one")
    if (feats is None) != (feats_out is None):
        raise ValueError(f"model {name!r}: feats were {'None' if feats_out is None else 'an array'} in an "
                         f"earlier batch and {'None' if feats is None else 'an array'} in this one")
    if feats is not None and feats.shape[-1] != feats_out.shape[-1]:
        raise ValueError(f"model {name!r}: feats have {feats.shape[-1]} channels in this batch, "
                         f"{feats_out.shape[-1]} in an earlier one")


def _bilinear_at(maps, slot, row, col, size) -> np.ndarray:
    """maps [b, h, w, Z] at pixel centres of an H x W image (see :func:`predict_fn_at_pixels`) -> [m, Z]."""
    (H, W), (h, w) = size, maps.shape[1:3]
    if (h, w) == (H, W):
        return maps[slot, row, col]

    def axis(coord, out_len, in_len):
        y = np.clip((coord + 0.5) * (in_len / out_len) - 0.5, 0.0, in_len - 1)
        y0 = np.floor(y).astype(np.int64)
        return y0, np.minimum(y0 + 1, in_len - 1), (y - y0).astype(np.float32)[:, None]

    r0, r1, wr = axis(row.astype(np.float64), H, h)
    c0, c1, wc = axis(col.astype(np.float64), W, w)
    top = maps[slot, r0, c0] * (1 - wc) + maps[slot, r0, c1] * wc
    bottom = maps[slot, r1, c0] * (1 - wc) + maps[slot, r1, c1] * wc
    return (top * (1 - wr) + bottom * wr).astype(np.float32)
