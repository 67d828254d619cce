"""Fixed noise tables and their per-image lookups: the only source of spatial randomness in the renderer.

Two periodic 512x512 float32 tables are built once from a constant seed: ``WHITE`` (iid uniform [0, 1)) and
``SMOOTH`` (``WHITE`` convolved with a periodic Gaussian of sigma 12 cells, rescaled to [0, 1]). An image
reads a table at ``(floor(y * scale) + oy) mod 512, (floor(x * scale) + ox) mod 512`` where ``y, x`` are its
normalised pixel-centre coordinates, ``scale`` is cells per image side and ``oy, ox`` are integer offsets
drawn from the image's own generator. Texture therefore depends only on (table, scale, offsets): random
access stays exact and a batch is rendered with one gather per lookup.
"""
from __future__ import annotations

import functools

import numpy as np

TABLE_SIZE = 512
_TABLE_SEED = 20221122


@functools.lru_cache(maxsize=None)
def tables() -> tuple[np.ndarray, np.ndarray]:
    """(white, smooth): float32 [512, 512] each, values in [0, 1]; built once per process."""
    rng = np.random.default_rng(_TABLE_SEED)
    white = rng.random((TABLE_SIZE, TABLE_SIZE), dtype=np.float32)
    freq = np.fft.fftfreq(TABLE_SIZE)
    sigma = 12.0
    kernel = np.exp(-2.0 * (np.pi * sigma) ** 2 * (freq[:, None] ** 2 + freq[None, :] ** 2))
    smooth = np.real(np.fft.ifft2(np.fft.fft2(white - 0.5) * kernel))
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return white, smooth.astype(np.float32)


def lookup(table: np.ndarray, y: np.ndarray, x: np.ndarray, scale: float, oy: np.ndarray, ox: np.ndarray):
    """Nearest-cell read of ``table``: float32 [B, H, W].

    Args:
      table: [N, N] periodic table.
      y, x: normalised coordinates, broadcastable to [1, H, W] (or [B, H, W]).
      scale: cells per unit of normalised coordinate.
      oy, ox: int [B, 1, 1] per-image offsets in cells.
    """
    n = table.shape[0]
    iy = (np.floor(y * scale).astype(np.int64) + oy) % n
    ix = (np.floor(x * scale).astype(np.int64) + ox) % n
    return np.take(table.ravel(), iy * n + ix)
