"""Class-balanced pixel sampling (Agostinelli et al. 2022, Sec. 3.2).

Per image, up to ``max_per_image`` (1000) non-void pixels are drawn without replacement, each with
probability proportional to 1 / frequency of its class over the target training set. Sampling without
replacement uses exponential keys (Efraimidis and Spirakis 2006): pixel j gets key log(u_j) / w_j with
u_j ~ U(0, 1) and the k largest keys are kept, which draws the same distribution as successive weighted
draws. Image i uses the generator ``numpy.random.default_rng([seed, i])``, so its sample depends only on
(seed, i, its labels, the class frequencies), never on the other images in the call.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from transel_jax import checks

VOID = 0


class PixelSample(NamedTuple):
    """Sampled pixel coordinates: int32 [n] each. ``labels`` are dataset labels 1..C (never void)."""

    image: np.ndarray
    row: np.ndarray
    col: np.ndarray
    labels: np.ndarray

    @property
    def class_index(self) -> np.ndarray:
        """labels - 1: the 0..C-1 class indices the metric kernels take."""
        return self.labels - 1

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def gather(self, maps) -> np.ndarray:
        """Values of per-image maps at the sampled pixels: maps [B, H, W, ...] (or a list) -> [n, ...]."""
        if isinstance(maps, np.ndarray):
            return maps[self.image, self.row, self.col]
        return np.stack([np.asarray(maps[b])[r, c] for b, r, c in zip(self.image, self.row, self.col)])


def _as_label_maps(labels) -> Sequence[np.ndarray]:
    if labels is None or isinstance(labels, (str, bytes, dict)) or not hasattr(labels, "__iter__"):
        raise TypeError(f"labels: expected int label maps [B, H, W] or a sequence of [H, W] maps, got "
                        f"{type(labels).__name__}")
    maps = list(labels) if not isinstance(labels, np.ndarray) else labels
    if isinstance(maps, np.ndarray):
        checks.check_rank(maps, "labels", 3, "[B, H, W]")
    if len(maps) == 0:
        raise ValueError("labels: expected at least one label map, got 0 images")
    for i, m in enumerate(maps):
        checks.check_rank(m, f"labels[{i}]", 2, "[H, W]")
        checks.check_integer(np.asarray(m), f"labels[{i}]")
        if np.size(m) == 0:
            raise ValueError(f"labels[{i}]: expected a non-empty [H, W] label map, got shape {np.shape(m)}")
        if np.asarray(m).min() < 0:
            raise ValueError(f"labels[{i}]: expected labels >= 0 (0 = void), got minimum {np.asarray(m).min()}")
    return maps


def label_counts(labels, num_classes: int | None = None) -> np.ndarray:
    """Pixel count of every label over all maps, float64 [C + 1] (index 0 = void, counted but unused)."""
    maps = _as_label_maps(labels)
    top = max(int(np.asarray(m).max()) for m in maps)
    size = top + 1 if num_classes is None else num_classes + 1
    if top >= size:
        raise ValueError(f"labels: expected values in [0, {num_classes}], got a maximum of {top}")
    return sum(np.bincount(np.asarray(m).ravel(), minlength=size) for m in maps).astype(np.float64)


def _as_frequencies(class_frequency) -> np.ndarray:
    try:
        return np.asarray(class_frequency, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"class_frequency: expected a float array [C + 1] of class pixel counts, got "
                        f"{type(class_frequency).__name__}") from None


def sample_pixels(labels, *, seed: int, max_per_image: int = 1000, class_frequency=None) -> PixelSample:
    """Draw a class-balanced pixel sample.

    Args:
      labels: int label maps, [B, H, W] or a sequence of [H, W] (sizes may differ); 0 is void.
      seed: an int >= 0; the sample is a pure function of (seed, labels, class_frequency).
      max_per_image: at most this many pixels per image (all non-void pixels if fewer).
      class_frequency: float [C + 1] class pixel counts over the target training set; default: counted
        over ``labels`` themselves. Every class present in ``labels`` needs a finite positive entry.
    Returns:
      PixelSample with int32 [n] image, row, col and labels (1..C), ordered by image, then row-major.
    """
    checks.check_positive_int(seed, "seed", minimum=0)
    maps = _as_label_maps(labels)
    checks.check_positive_int(max_per_image, "max_per_image")
    freq = label_counts(maps) if class_frequency is None else _as_frequencies(class_frequency)
    checks.check_rank(freq, "class_frequency", 1, "[C + 1]")
    top = max(int(np.asarray(m).max()) for m in maps)
    if top >= freq.shape[0]:
        raise ValueError(f"class_frequency: expected an entry for every label up to {top}, got {freq.shape[0]} entries")
    present = np.bincount(np.concatenate([np.asarray(m).ravel() for m in maps]), minlength=freq.shape[0]) > 0
    present[VOID] = False
    bad = present & ~(np.isfinite(freq) & (freq > 0))
    if np.any(bad):
        cls = np.flatnonzero(bad)
        raise ValueError(f"class_frequency: expected a finite positive frequency for every class present in "
                         f"labels, got {freq[cls[0]]!r} for class {int(cls[0])} ({cls.size} such classes)")
    weight = np.where(freq > 0, 1.0 / np.where(freq > 0, freq, 1.0), 0.0)

    parts = []
    for i, m in enumerate(maps):
        flat = np.asarray(m).ravel()
        (cand,) = np.nonzero(flat != VOID)
        if cand.size > max_per_image:
            rng = np.random.default_rng([seed, i])
            keys = np.log(rng.random(cand.size)) / weight[flat[cand]]
            cand = np.sort(cand[np.argpartition(-keys, max_per_image - 1)[:max_per_image]])
        width = np.asarray(m).shape[1]
        parts.append((np.full(cand.size, i), cand // width, cand % width, flat[cand]))
    image, row, col, lab = (np.concatenate(p).astype(np.int32) for p in zip(*parts))
    return PixelSample(image=image, row=row, col=col, labels=lab)
