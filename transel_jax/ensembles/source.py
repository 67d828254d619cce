"""Where the scorer reads its [N, n, C] EEP input from: an array in memory, a memory-mapped ``.npy``, or any
chunked source, always a chunk of pixels at a time, in the input's own dtype.

A *chunked source* is any object with ``shape`` (N, n, C), ``dtype`` and ``read(pixels) -> [N, k, C]``
(``pixels``: int64 [k] indices into the n axis, sorted ascending). ``as_source`` wraps numpy arrays and
``np.memmap`` views (``np.load(path, mmap_mode="r")``) in :class:`ArraySource`, whose ``read`` is one
index gather on the pixel axis: only the requested pixels are read and converted to float32, never the
whole array.

Which on-disk layout streams well. The scorer reads single-class chunks (pixels sorted by true class).
An ``.npy`` of shape [N, n, C] whose pixels are already sorted by label (``order = np.argsort(labels,
kind="stable")``; store ``eep[:, order]`` and ``labels[order]``) turns every chunk into N contiguous
slabs of m*C values: sequential reads, each page read once. An unsorted [N, n, C] file is still correct
and bounded in memory, but each chunk then gathers m scattered rows of C values per source: on a cold
page cache that is random I/O, roughly one page per pixel and source, and whole pages are read for one
row. A pixel-major [n, N, C] file (pass ``np.load(path, mmap_mode="r").transpose(1, 0, 2)``) makes a
sorted chunk a single contiguous block. float16 halves the bytes read; values are widened to float32
per chunk.
"""
from __future__ import annotations

import mmap
import os
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ChunkedEEP(Protocol):
    """The protocol of a chunked EEP source (see the module docstring)."""

    shape: tuple
    dtype: np.dtype

    def read(self, pixels: np.ndarray) -> np.ndarray: ...


class ArraySource:
    """A numpy array or memory map [N, n, C] read a pixel chunk at a time (never copied whole)."""

    def __init__(self, array, name: str = "eep"):
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = array.dtype
        self.name = name
        self.in_memory = not isinstance(array, np.memmap) and not _is_memmap_view(array)

    def read(self, pixels: np.ndarray) -> np.ndarray:
        pixels = np.asarray(pixels)
        if pixels.size and pixels[-1] - pixels[0] + 1 == pixels.size and np.all(np.diff(pixels) == 1):
            out = np.array(self.array[:, int(pixels[0]):int(pixels[-1]) + 1, :])  # a slice: sequential reads
        else:
            out = np.asarray(self.array[:, pixels, :])
        if not self.in_memory:
            self._release(out.nbytes)
        return out

    _since_release = 0

    def _release(self, nbytes: int, every: int = 256 << 20) -> None:
        """Unmap the pages read so far every ``every`` bytes (madvise DONTNEED): the file stays in the page
        cache, but the process's resident memory does not grow with the file."""
        self._since_release += nbytes
        if self._since_release < every:
            return
        self._since_release = 0
        base = self.array
        while base is not None and not isinstance(getattr(base, "_mmap", None), mmap.mmap):
            base = getattr(base, "base", None)
        if base is not None and hasattr(mmap, "MADV_DONTNEED"):
            base._mmap.madvise(mmap.MADV_DONTNEED)


class Checked:
    """A source whose every value has already passed the scorer's probability checks: ``score_ensembles``
    reads it without checking again (``checked = True``). ``greedy_select`` wraps its input in one after
    the first round, which read every pixel, so rounds 2..S do not repeat the checks over [N, n, C]."""

    checked = True

    def __init__(self, source):
        self.source, self.shape, self.dtype = source, tuple(source.shape), source.dtype

    def read(self, pixels: np.ndarray) -> np.ndarray:
        return self.source.read(pixels)


def _is_memmap_view(array) -> bool:
    base = getattr(array, "base", None)
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


def as_source(eep, name: str = "eep"):
    """An EEP source for the scorer from an array, a list of [n, C] arrays, an ``.npy`` path or a source.

    Raises TypeError/ValueError naming ``name`` for anything else, including a ragged list.
    """
    if isinstance(eep, (str, os.PathLike)):
        path = os.fspath(eep)
        if not path.endswith(".npy"):
            raise ValueError(f"{name}: expected an array, a chunked source or a path to an .npy file, got path {path!r}")
        if not os.path.isfile(path):
            raise ValueError(f"{name}: expected an existing .npy file, got {path!r} (not found)")
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as err:
            raise ValueError(f"{name}: expected a numeric .npy array, could not read {path!r}: {err}") from None
        return ArraySource(array, name)
    if isinstance(eep, (ArraySource, Checked)):
        return eep
    if not isinstance(eep, np.ndarray) and isinstance(eep, ChunkedEEP):
        if len(tuple(eep.shape)) != 3:
            raise ValueError(f"{name}: expected a chunked source of shape [N, n, C], got shape {tuple(eep.shape)}")
        return eep
    if eep is None:
        raise TypeError(f"{name}: expected float [N, n, C] EEP predictions, got None")
    if isinstance(eep, (list, tuple)):
        shapes = {np.shape(a) for a in eep}
        if len(shapes) > 1:
            raise ValueError(f"{name}: expected a list of equally shaped [n, C] arrays, got shapes {sorted(shapes)}")
    try:
        array = np.asarray(eep)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name}: expected a numeric [N, n, C] array, got {type(eep).__name__} ({err})") from None
    if array.dtype == object:
        raise TypeError(f"{name}: expected a numeric [N, n, C] array, got dtype object")
    return ArraySource(array, name)
