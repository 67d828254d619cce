"""Cutting very large aerial tiles (ISPRS, iSAID) into overlapping square patches.

As in the iSAID devkit procedure the papers use (002 Tab. 1 note c): patches of ``size`` pixels whose
starts advance by ``size - overlap``; the last patch is shifted back to end exactly at the border, so
for a 1500 px side, size 800, overlap 200 the starts are 0, 600, 700. A side shorter than ``size`` gives
a single patch covering the whole side.
"""
from __future__ import annotations

import dataclasses

PATCH_SIZE = 800
PATCH_OVERLAP = 200


def patch_starts(length: int, size: int = PATCH_SIZE, overlap: int = PATCH_OVERLAP) -> list[int]:
    """Start offsets along one side of ``length`` pixels: ``0, step, 2 step, ...`` and ``length - size``.

    step = size - overlap; every pixel is covered and no patch leaves the tile.
    """
    if length < 1 or size < 1 or not 0 <= overlap < size:
        raise ValueError(
            f"patch geometry: expected length >= 1, size >= 1 and 0 <= overlap < size, "
            f"got length={length}, size={size}, overlap={overlap}"
        )
    if length <= size:
        return [0]
    step = size - overlap
    starts = list(range(0, length - size, step))
    return starts + [length - size]


@dataclasses.dataclass(frozen=True)
class Window:
    """A patch ``[top:top+height, left:left+width]`` of a tile."""

    top: int
    left: int
    height: int
    width: int

    def cut(self, array):
        return array[self.top:self.top + self.height, self.left:self.left + self.width]


def patch_grid(height: int, width: int, size: int = PATCH_SIZE, overlap: int = PATCH_OVERLAP) -> list[Window]:
    """All windows of a ``height`` x ``width`` tile, row-major (top to bottom, then left to right)."""
    h, w = min(size, height), min(size, width)
    return [
        Window(top, left, h, w)
        for top in patch_starts(height, size, overlap)
        for left in patch_starts(width, size, overlap)
    ]
