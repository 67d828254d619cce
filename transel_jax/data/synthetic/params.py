"""Per-image scene parameters as columns of a uniform matrix.

An image's generator draws one row of uniforms; layouts consume it column by column, so a batch of images is
laid out with array arithmetic on [B, 1, 1] columns instead of per-image Python.
"""
from __future__ import annotations

import numpy as np


class Params:
    """Sequential reader of ``u``: float [B, P] uniforms in [0, 1)."""

    def __init__(self, u: np.ndarray):
        self._u = u.astype(np.float32)
        self._next = 0

    def uniform(self, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
        """Next column mapped to [lo, hi): float32 [B, 1, 1]."""
        if self._next >= self._u.shape[1]:
            raise IndexError(f"scene layout used more than {self._u.shape[1]} parameters per image")
        col = self._u[:, self._next, None, None]
        self._next += 1
        return lo + (hi - lo) * col

    def chance(self, p: float) -> np.ndarray:
        """Next column as a bool [B, 1, 1] that is True with probability ``p``."""
        return self.uniform() < p

    def offset(self, n: int) -> np.ndarray:
        """Next column as an integer offset in [0, n): int64 [B, 1, 1]."""
        return np.floor(self.uniform() * n).astype(np.int64)
