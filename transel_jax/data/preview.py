"""Preview grids: sample images of one or more datasets next to their label overlays.

Each dataset is one row: ``per_dataset`` (image, overlay) pairs, the overlay being the image blended 50/50
with a fixed colour per label (void drawn black), and the dataset name written on the left.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from transel_jax.checks import check_positive_int
from transel_jax.data import catalog
from transel_jax.data.pipeline import resize

_MARGIN = 130


def label_colours(num_labels: int) -> np.ndarray:
    """uint8 [num_labels, 3]: black for void (0), then well-separated hues (golden-angle HSV walk)."""
    hue = (np.arange(num_labels) * 0.618034) % 1.0
    value = np.where(np.arange(num_labels) % 2, 0.95, 0.7)
    hsv = np.stack([hue, np.full(num_labels, 0.85), value], -1)
    rgb = np.asarray(Image.fromarray((hsv[None] * 255).astype(np.uint8), "HSV").convert("RGB"))[0]
    rgb = rgb.copy()
    rgb[0] = 0
    return rgb


def overlay(image: np.ndarray, label: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3]: ``image`` blended 50/50 with ``colours[label]``; void pixels black."""
    mixed = (0.5 * image + 0.5 * colours[label]).astype(np.uint8)
    mixed[label == 0] = 0
    return mixed


def resolve(target: str) -> list[str]:
    """Dataset names for a suite name ("synthetic", "real") or a single dataset name."""
    if target in ("synthetic", "real"):
        return catalog.names(suite=target)
    catalog.info(target)  # raises ValueError naming the known datasets
    return [target]


def grid(names: Sequence[str], *, per_dataset: int = 4, split: str = "train", tile: int = 128,
         **load_kwargs) -> np.ndarray:
    """uint8 [rows * tile, margin + 2 * per_dataset * tile, 3] preview of the first examples of each dataset."""
    per_dataset = check_positive_int(per_dataset, "per_dataset")
    tile = check_positive_int(tile, "tile", minimum=16)
    rows = []
    for name in names:
        source = catalog.load(name, split, **load_kwargs)
        colours = label_colours(catalog.info(name).num_labels)
        tiles = []
        for i in range(min(per_dataset, len(source))):
            example = source[i]
            image, label = resize(np.asarray(example["image"]), np.asarray(example["label"]), tile, tile)
            tiles += [image, overlay(image, label.astype(np.int64), colours)]
        tiles += [np.zeros((tile, tile, 3), np.uint8)] * (2 * per_dataset - len(tiles))
        row = np.concatenate([np.full((tile, _MARGIN, 3), 255, np.uint8)] + tiles, axis=1)
        picture = Image.fromarray(row)
        info = catalog.info(name)
        ImageDraw.Draw(picture).text((4, 4), f"{name}\n{info.domain}\n{info.num_classes} classes", fill=(0, 0, 0))
        rows.append(np.asarray(picture))
    return np.concatenate(rows, axis=0)


def save(target: str, out: str | Path, **kwargs) -> Path:
    """Write the preview grid of ``target`` (suite or dataset name) as a PNG; returns the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid(resolve(target), **kwargs)).save(out)
    return out
