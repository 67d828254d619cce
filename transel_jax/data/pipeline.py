"""Input pipeline: seeded, resumable, per-host training batches and padded single-scale evaluation batches.

Training stream. Global example position ``p = step * batch_size + j`` (``j`` the slot in the global batch)
reads example ``perm_e[p mod N]`` of the source, where ``e = p // N`` is the epoch and ``perm_e`` a
permutation drawn from ``numpy.random.default_rng([seed, 0, e])``; its augmentation draws from
``default_rng([seed, 1, p])``. A batch is therefore a pure function of ``(seed, step)``: starting at
``start_step=k`` yields exactly the k-th batch of a fresh run, and host ``i`` of ``n`` takes global slots
``[i * b, (i + 1) * b)`` with ``b = batch_size // n``, so hosts are disjoint, together cover the global batch,
and the global batch does not depend on the number of hosts.

Augmentation (002 Sec. 4.1): random rescale by a factor from ``scale_range`` (bilinear for the image,
nearest for the label, same geometry), random horizontal flip, random crop to ``info.resolution``; where
the rescaled image is smaller than the crop, the rest is padding (image at the dataset mean, i.e. 0 after
normalisation, label void). No colour or rotation augmentation. Images are normalised per channel with
``(x - info.mean) / info.std``.

Evaluation stream: examples in order at a single scale (resized so the image fits the resolution with one
side matching it, then padded), ``ceil(N / batch_size)`` global batches on every host; padding examples
have ``mask == False`` and all-void labels.

Prefetching uses one background thread per iterator (numpy and Pillow release the GIL while they work).
Because the whole state of the stream is the step counter, we do not need a loader framework's
checkpointable iterators; grain would pay off for multi-process decoding of large JPEG datasets.
This module never imports jax: batches are numpy arrays ready for ``jax.device_put`` onto the mesh.
"""
from __future__ import annotations

import functools
import itertools
import queue
import threading
from typing import Iterator, Mapping

import numpy as np
from PIL import Image

from transel_jax.checks import check_positive_int

DEFAULT_SCALE_RANGE = (0.5, 2.0)
_SHUFFLE, _AUGMENT = 0, 1


# ----------------------------------------------------------------------------------------- sources


class Subset:
    """The examples ``indices`` of ``source`` as a source of their own (``get_batch`` kept when present)."""

    def __init__(self, source, indices):
        self.source = source
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, index: int):
        return self.source[int(self.indices[index])]

    @property
    def get_batch(self):
        """The wrapped source's batch read, for these indices; absent (AttributeError) when it has none, so
        a source of differently sized images (real datasets) is still read example by example."""
        if not hasattr(self.source, "get_batch"):
            raise AttributeError(f"{type(self.source).__name__} has no get_batch")
        return lambda indices: self.source.get_batch(self.indices[np.asarray(indices, dtype=np.int64)])


def target_subset(source, info) -> Subset:
    """The small target training set: the first ``info.target_train_size`` examples of ``source``, in order."""
    n = info.target_train_size
    if len(source) < n:
        raise ValueError(f"source: expected at least info.target_train_size = {n} examples, got {len(source)}")
    return Subset(source, np.arange(n))


def _examples(source, indices) -> list[tuple[np.ndarray, np.ndarray]]:
    """(image, label) pairs; sources of differently sized images are read one by one."""
    if hasattr(source, "get_batch"):
        batch = source.get_batch(indices)
        return list(zip(batch["image"], batch["label"]))
    return [(np.asarray(e["image"]), np.asarray(e["label"])) for e in (source[int(i)] for i in indices)]


# ------------------------------------------------------------------------------------ geometry


def resize(image: np.ndarray, label: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Image uint8 [H, W, 3] bilinearly and label [H, W] by nearest neighbour to [height, width] (same grid)."""
    if image.shape[:2] == (height, width):
        return image, label
    img = np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))
    lab = label.astype(np.uint8 if label.max(initial=0) < 256 else np.int32)
    lab = np.asarray(Image.fromarray(lab).resize((width, height), Image.NEAREST))
    return img, lab


def place(image: np.ndarray, label: np.ndarray, top: int, left: int, height: int, width: int, mean, std):
    """Normalised window [top, top + height) x [left, left + width) of (image, label); outside is padding.

    Returns image float32 [height, width, 3] ((x - mean) / std, 0 on padding) and label int32 [height, width]
    (0 = void on padding). ``top``/``left`` may be negative or run past the edge.
    """
    out_img = np.zeros((height, width, 3), np.float32)
    out_lab = np.zeros((height, width), np.int32)
    h, w = label.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, h), min(left + width, w)
    if y1 > y0 and x1 > x0:
        window = image[y0:y1, x0:x1].astype(np.float32)
        out_img[y0 - top:y1 - top, x0 - left:x1 - left] = (window - mean) / std
        out_lab[y0 - top:y1 - top, x0 - left:x1 - left] = label[y0:y1, x0:x1]
    return out_img, out_lab


def augment_example(image, label, rng: np.random.Generator, resolution, mean, std, scale_range=DEFAULT_SCALE_RANGE):
    """Random rescale, horizontal flip and crop (with padding) of one example; see the module docstring.

    Draws, in order: scale ~ U(scale_range), flip ~ Bernoulli(0.5), crop top, crop left (uniform over all
    windows that lie inside the rescaled image, or all placements of it inside the window if it is smaller).
    """
    crop_h, crop_w = resolution
    scale = rng.uniform(*scale_range)
    flip = rng.random() < 0.5
    h, w = label.shape
    image, label = resize(image, label, max(1, round(h * scale)), max(1, round(w * scale)))
    if flip:
        image, label = image[:, ::-1], label[:, ::-1]
    return place(image, label, *_window(rng, label.shape, resolution), crop_h, crop_w, mean, std)


def _window(rng: np.random.Generator, shape, resolution) -> tuple[int, int]:
    """Random (top, left) of a crop: inside the image if it is larger, else a placement of the image inside."""
    (h, w), (crop_h, crop_w) = shape, resolution
    top = int(rng.integers(min(0, h - crop_h), max(0, h - crop_h) + 1))
    left = int(rng.integers(min(0, w - crop_w), max(0, w - crop_w) + 1))
    return top, left


def fit(image, label, resolution, mean, std):
    """Single-scale evaluation view: resize so the image fits ``resolution`` with one side matching, pad."""
    crop_h, crop_w = resolution
    h, w = label.shape
    scale = min(crop_h / h, crop_w / w)
    image, label = resize(image, label, max(1, round(h * scale)), max(1, round(w * scale)))
    return place(image, label, 0, 0, crop_h, crop_w, mean, std)


# ------------------------------------------------------------------------------------- streams


@functools.lru_cache(maxsize=4)
def _permutation(seed: int, num_examples: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, _SHUFFLE, epoch]).permutation(num_examples)


def example_order(seed: int, num_examples: int, positions) -> np.ndarray:
    """Source index read at each global stream position ``positions`` [n] (epoch-wise seeded shuffles)."""
    positions = np.asarray(positions, dtype=np.int64)
    out = np.empty_like(positions)
    epochs = positions // num_examples
    for epoch in np.unique(epochs):
        at = epochs == epoch
        out[at] = _permutation(seed, num_examples, int(epoch))[positions[at] % num_examples]
    return out


def _check_hosts(batch_size, process_index, process_count) -> int:
    batch_size = check_positive_int(batch_size, "batch_size")
    process_count = check_positive_int(process_count, "process_count")
    if not 0 <= process_index < process_count:
        raise ValueError(f"process_index: expected a value in [0, {process_count - 1}], got {process_index}")
    if batch_size % process_count:
        raise ValueError(f"batch_size: expected a multiple of process_count = {process_count}, got {batch_size}")
    return batch_size // process_count


def _stats(info) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(info.mean, np.float32), np.asarray(info.std, np.float32)


def train_batches(source, info, *, batch_size: int, seed: int, start_step: int = 0, num_steps: int | None = None,
                  process_index: int = 0, process_count: int = 1, augment: bool = True,
                  scale_range: tuple[float, float] = DEFAULT_SCALE_RANGE, prefetch: int = 2) -> Iterator[dict]:
    """Training batches of this host: {"image": float32 [b, h, w, 3] normalised, "label": int32 [b, h, w]}.

    ``b = batch_size // process_count``, ``(h, w) = info.resolution``; steps ``start_step, start_step + 1, ...``
    (forever, or ``num_steps`` of them). ``augment=False`` only crops/pads the unscaled, unflipped image at
    a random offset. Deterministic in ``(seed, step)``; see the module docstring.
    """
    local = _check_hosts(batch_size, process_index, process_count)
    check_positive_int(prefetch, "prefetch", minimum=0)
    check_positive_int(start_step, "start_step", minimum=0)
    check_positive_int(seed, "seed", minimum=0)
    if num_steps is not None:
        check_positive_int(num_steps, "num_steps", minimum=0)
    if len(source) == 0:
        raise ValueError("source: expected at least one example, got 0")
    lo, hi = scale_range
    if not 0 < lo <= hi:
        raise ValueError(f"scale_range: expected 0 < low <= high, got {scale_range}")
    mean, std = _stats(info)
    resolution = tuple(info.resolution)
    span = scale_range if augment else None

    def batch(step: int) -> dict:
        positions = step * batch_size + process_index * local + np.arange(local)
        pairs = _examples(source, example_order(seed, len(source), positions))
        images, labels = zip(*(_train_view(img, lab, np.random.default_rng([seed, _AUGMENT, int(p)]), resolution,
                                           mean, std, span) for (img, lab), p in zip(pairs, positions)))
        return {"image": np.stack(images), "label": np.stack(labels)}

    steps = itertools.count(start_step) if num_steps is None else range(start_step, start_step + num_steps)
    return _prefetched((batch(s) for s in steps), prefetch)


def _train_view(image, label, rng, resolution, mean, std, scale_range):
    if scale_range is not None:
        return augment_example(image, label, rng, resolution, mean, std, scale_range)
    return place(image, label, *_window(rng, label.shape, resolution), *resolution, mean, std)


def eval_batches(source, info, *, batch_size: int, process_index: int = 0, process_count: int = 1,
                 prefetch: int = 2) -> Iterator[dict]:
    """Evaluation batches of this host, in source order, single scale.

    Yields ``ceil(len(source) / batch_size)`` dicts {"image": float32 [b, h, w, 3], "label": int32 [b, h, w],
    "mask": bool [b]} (the same count on every host); global batch k holds examples
    ``[k * batch_size, (k + 1) * batch_size)`` and this host its slots ``[i * b, (i + 1) * b)``.
    """
    local = _check_hosts(batch_size, process_index, process_count)
    check_positive_int(prefetch, "prefetch", minimum=0)
    mean, std = _stats(info)
    resolution = tuple(info.resolution)
    n = len(source)

    def batch(k: int) -> dict:
        positions = k * batch_size + process_index * local + np.arange(local)
        real = positions[positions < n]
        images = np.zeros((local, *resolution, 3), np.float32)
        labels = np.zeros((local, *resolution), np.int32)
        for row, (img, lab) in enumerate(_examples(source, real)):
            images[row], labels[row] = fit(img, lab, resolution, mean, std)
        return {"image": images, "label": labels, "mask": positions < n}

    return _prefetched((batch(k) for k in range(-(-n // batch_size))), prefetch)


# ------------------------------------------------------------------------------------ prefetch


class _Raised:
    def __init__(self, error: BaseException):
        self.error = error


_END = object()


def _prefetched(items: Iterator[Mapping], size: int) -> Iterator[Mapping]:
    """Iterate ``items`` computed ``size`` ahead on a background thread (``size=0``: inline)."""
    if size == 0:
        yield from items
        return
    buffer: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Raised(error))

    worker = threading.Thread(target=work, name="transel-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        stop.set()
