"""Random-access sources and numpy arrays over the synthetic datasets.

Rendering an image costs about 0.8 ms at 64 x 64 on this project's CPU, twice its augmentation, and a
study reads every training image many times (each of a dataset's four pool models sees its split two to
three times over). So the sources share one process-wide cache of rendered images: an image is rendered
the first time any source of its (dataset, seed, resolution) asks for it and copied out of the cache
afterwards. The cache holds at most :data:`CACHE_BYTES` (whole datasets are dropped, least recently used
first; a dataset larger than the bound is rendered on every read, as without a cache). Cached bytes are
the rendered bytes (rendering is elementwise per image, see ``generate``), so results do not depend on it.
"""
from __future__ import annotations

import collections
import threading

import numpy as np

from transel_jax.checks import check_positive_int
from transel_jax.data.synthetic.datasets import get
from transel_jax.data.synthetic.generate import generate

CACHE_BYTES = 1 << 30  # bound of the rendered-image cache (all 15 datasets at 64 x 64 take 326 MiB); 0 disables it


class _Rendered:
    """Rendered images of one (dataset, seed, resolution), filled on demand over the dataset-wide index."""

    def __init__(self, size: int, resolution: int):
        self.image = np.empty((size, resolution, resolution, 3), np.uint8)
        self.label = np.empty((size, resolution, resolution), np.uint8)
        self.done = np.zeros(size, bool)
        self.nbytes = self.image.nbytes + self.label.nbytes


_CACHE: collections.OrderedDict = collections.OrderedDict()  # (name, seed, resolution) -> _Rendered, LRU order
_LOCK = threading.Lock()  # prefetch threads of several iterators may read at once


def clear_cache() -> None:
    """Drop every cached rendered image (the next reads render again)."""
    with _LOCK:
        _CACHE.clear()


def cached_bytes() -> int:
    """Bytes held by the rendered-image cache."""
    with _LOCK:
        return sum(entry.nbytes for entry in _CACHE.values())


def _entry(name: str, size: int, seed: int, resolution: int) -> _Rendered | None:
    """The cache entry of a dataset (created, and older ones dropped to fit), or None when it cannot fit."""
    key = (name, seed, resolution)
    entry = _CACHE.get(key)
    if entry is not None:
        _CACHE.move_to_end(key)
        return entry
    need = size * resolution * resolution * 4  # image (3 bytes per pixel) + label (1)
    if need > CACHE_BYTES:
        return None
    while _CACHE and sum(e.nbytes for e in _CACHE.values()) + need > CACHE_BYTES:
        _CACHE.popitem(last=False)
    entry = _CACHE[key] = _Rendered(size, resolution)
    return entry


def _render(name: str, indices: np.ndarray, *, seed: int, resolution: int) -> dict:
    """``generate(name, indices, ...)`` through the cache: {"image", "label"} for dataset-wide ``indices``."""
    size = get(name).size
    with _LOCK:
        entry = _entry(name, size, seed, resolution)
        if entry is None:
            return generate(name, indices, seed=seed, resolution=resolution)
        missing = np.unique(indices[~entry.done[indices]])
    if missing.size:  # rendered outside the lock; two threads rendering the same image store the same bytes
        fresh = generate(name, missing, seed=seed, resolution=resolution)
        entry.image[missing], entry.label[missing] = fresh["image"], fresh["label"]
        with _LOCK:
            entry.done[missing] = True
    return {"image": entry.image[indices], "label": entry.label[indices]}


class SyntheticSource:
    """One split of a synthetic dataset as a catalog source.

    ``len(src)`` images; ``src[i]`` is ``{"image": uint8 [R, R, 3], "label": uint8 [R, R]}``, generated on
    demand from (seed, dataset, split offset + i) and kept in the module's cache; ``src.get_batch(indices)``
    renders many at once (faster, identical bytes).
    """

    def __init__(self, name: str, split: str, *, seed: int = 0, resolution: int = 64):
        self.dataset = get(name)
        self.split = split
        self.seed = check_positive_int(seed, "seed", minimum=0)
        self.resolution = check_positive_int(resolution, "resolution", minimum=8)
        self._start, self._stop = self.dataset.split_range(split)

    def __len__(self) -> int:
        return self._stop - self._start

    def __repr__(self) -> str:
        return (f"SyntheticSource({self.dataset.name!r}, {self.split!r}, seed={self.seed}, "
                f"resolution={self.resolution}, len={len(self)})")

    def _global(self, indices) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index: expected values in [{-n}, {n - 1}], got values in [{idx.min()}, {idx.max()}]")
        return self._start + np.where(idx < 0, idx + n, idx)

    def get_batch(self, indices) -> dict:
        """{"image": uint8 [n, R, R, 3], "label": uint8 [n, R, R]} for split-local ``indices`` [n]."""
        return _render(self.dataset.name, self._global(indices), seed=self.seed, resolution=self.resolution)

    def __getitem__(self, index) -> dict:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an integer, got {type(index).__name__}")
        batch = self.get_batch([index])
        return {key: value[0] for key, value in batch.items()}


def arrays(name: str, split: str, *, seed: int = 0, resolution: int = 64, start: int = 0,
           stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [n, R, R, 3] and labels uint8 [n, R, R] of examples ``start:stop`` of a split."""
    source = SyntheticSource(name, split, seed=seed, resolution=resolution)
    stop = len(source) if stop is None else stop
    if not 0 <= start <= stop <= len(source):
        raise ValueError(f"start, stop: expected 0 <= start <= stop <= {len(source)}, got {start}, {stop}")
    batch = source.get_batch(np.arange(start, stop))
    return batch["image"], batch["label"]
