"""Pure numpy maps from a dataset's original label encoding to our labels 0..C (0 = void).

Three encodings occur among the 17 datasets:

* integer ids (``PNG`` index or grey value, ``.mat`` arrays): mapped with a lookup table,
  ``out[p] = table[ids[p]]``, ids outside the table map to 0 (void);
* colour-coded RGB masks: each pixel's colour ``(r, g, b)`` is packed into the integer
  ``code = r * 65536 + g * 256 + b`` and looked up in a palette; colours not in the palette are void;
* segment-id PNGs (COCO panoptic): ``id = r + 256 g + 65536 b`` per pixel, then a per-image table.

Every function returns uint8 [H, W] (every label count here is below 256).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np


def id_table(mapping: Mapping[int, int], size: int | None = None) -> np.ndarray:
    """Lookup table [size] uint8 with ``table[original_id] = label`` and 0 (void) everywhere else.

    ``size`` defaults to ``max(mapping) + 1``.
    """
    if not mapping:
        raise ValueError("mapping: expected at least one original id -> label entry, got none")
    size = max(mapping) + 1 if size is None else size
    table = np.zeros(size, np.uint8)
    for original, label in mapping.items():
        if original < 0 or original >= size:
            raise ValueError(f"mapping: expected original ids in [0, {size}), got {original}")
        table[original] = label
    return table


def shifted_table(num_ids: int, shift: int = 1, void_ids: tuple[int, ...] = ()) -> np.ndarray:
    """Table for ids 0..num_ids-1 mapped to ``id + shift`` except ``void_ids`` -> 0."""
    mapping = {i: i + shift for i in range(num_ids) if i not in void_ids}
    return id_table(mapping, size=num_ids)


def apply_table(ids: np.ndarray, table: np.ndarray) -> np.ndarray:
    """labels [H, W] uint8 = table[ids] for 0 <= ids < len(table), else 0 (void)."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"ids: expected a 2-d label image [H, W], got shape {ids.shape}")
    ids = ids.astype(np.int64)
    inside = (ids >= 0) & (ids < table.shape[0])
    return np.where(inside, table[np.clip(ids, 0, table.shape[0] - 1)], 0).astype(np.uint8)


def pack_rgb(rgb: np.ndarray) -> np.ndarray:
    """int64 [H, W] code = r * 65536 + g * 256 + b of an RGB image [H, W, 3]."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] < 3:
        raise ValueError(f"rgb: expected an [H, W, 3] colour mask, got shape {rgb.shape}")
    rgb = rgb[..., :3].astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def colour_to_label(rgb: np.ndarray, palette: Mapping[tuple[int, int, int], int]) -> np.ndarray:
    """labels [H, W] uint8: ``palette[(r, g, b)]`` per pixel; colours not in the palette -> 0 (void)."""
    codes = np.array([(r << 16) | (g << 8) | b for (r, g, b) in palette], np.int64)
    labels = np.array(list(palette.values()), np.uint8)
    order = np.argsort(codes)
    codes, labels = codes[order], labels[order]
    pixel = pack_rgb(rgb)
    pos = np.clip(np.searchsorted(codes, pixel), 0, codes.size - 1)
    return np.where(codes[pos] == pixel, labels[pos], 0).astype(np.uint8)


def binarize_rgb(rgb: np.ndarray, threshold: int = 128) -> np.ndarray:
    """uint8 [H, W, 3] with each channel set to 255 where ``>= threshold`` and 0 elsewhere.

    For masks saved with lossy compression or resampling (SUIM), whose palette has only 0/255 channels.
    """
    return np.where(np.asarray(rgb)[..., :3] >= threshold, 255, 0).astype(np.uint8)


def panoptic_ids(rgb: np.ndarray) -> np.ndarray:
    """int64 [H, W] segment id = r + 256 g + 65536 b (COCO panoptic PNG encoding)."""
    rgb = np.asarray(rgb)[..., :3].astype(np.int64)
    return rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16)


def segments_to_label(segment_ids: np.ndarray, segment_labels: Mapping[int, int]) -> np.ndarray:
    """labels [H, W] uint8: ``segment_labels[segment_id]`` per pixel; unknown segments (and 0) -> void."""
    if not segment_labels:
        return np.zeros(segment_ids.shape, np.uint8)
    keys = np.array(sorted(segment_labels), np.int64)
    values = np.array([segment_labels[k] for k in keys], np.uint8)
    pos = np.clip(np.searchsorted(keys, segment_ids), 0, keys.size - 1)
    return np.where(keys[pos] == segment_ids, values[pos], 0).astype(np.uint8)


@dataclasses.dataclass(frozen=True, eq=False)
class ByTable:
    """Label function for id-coded masks: ``apply_table(raw, table)``."""

    table: np.ndarray

    def __call__(self, raw: np.ndarray, pair: Any = None) -> np.ndarray:
        return apply_table(raw, self.table)


@dataclasses.dataclass(frozen=True)
class ByColour:
    """Label function for colour-coded masks: ``colour_to_label`` (after :func:`binarize_rgb` if asked)."""

    palette: Mapping[tuple[int, int, int], int]
    binarize: bool = False

    def __call__(self, raw: np.ndarray, pair: Any = None) -> np.ndarray:
        rgb = binarize_rgb(raw) if self.binarize else raw
        return colour_to_label(rgb, self.palette)
