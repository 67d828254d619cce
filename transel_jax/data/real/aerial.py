"""Readers for the aerial datasets: ISPRS (Potsdam train / Vaihingen validation) and iSAID.

Both consist of a few very large tiles which are cut on the fly into 800 x 800 patches with 200 px
overlap (:mod:`~transel_jax.data.real.patches`), so no preprocessing step is needed. Example ``i`` of a
split is a patch with id ``<tile>_<top>_<left>``; like every source, patches come in the hash order of
their ids (:func:`~transel_jax.data.real.files.example_order`), so the target subset spans many tiles.
Random access decodes a whole tile per patch (the last two files are cached): for training, prepare the
TFDS dataset once (:func:`~transel_jax.data.real.tfds_builder.prepare` reads every tile once).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from transel_jax.data.real import labelmaps
from transel_jax.data.real.files import Decoder, Pair, Reader, open_image
from transel_jax.data.real.patches import patch_grid


def _tile_size(path: Path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    with open_image(path) as im:
        width, height = im.size
    return height, width


def _patch_pairs(tiles: list[tuple[str, Path, Path]]) -> tuple[list[str], list[Pair]]:
    keys, pairs = [], []
    for stem, image, label in tiles:
        for window in patch_grid(*_tile_size(image)):
            keys.append(f"{stem}_{window.top}_{window.left}")
            pairs.append(Pair(image, label, window=window))
    return keys, pairs


# ----------------------------------------------------------------------------------------------- ISPRS

# ISPRS 2D semantic labelling colours. "Clutter/background" (red) is label 6: the FIDS release lists
# "clutter" as its 7th class but maps red to void; we keep the class (see classes.py). Any other colour
# (e.g. black boundary pixels of the eroded ground truth) is void.
ISPRS_PALETTE = {
    (255, 255, 255): 1,  # impervious surfaces
    (0, 0, 255): 2,  # building
    (0, 255, 255): 3,  # low vegetation
    (0, 255, 0): 4,  # tree
    (255, 255, 0): 5,  # car
    (255, 0, 0): 6,  # clutter / background
}


def false_colour(red: np.ndarray, green: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] = (R, G, floor((R + G) / 2)): the common colour space of Potsdam and Vaihingen.

    Vaihingen tiles are IRRG (no blue band), so both cities get a blue channel synthesised from red and
    green, as in the FIDS release.
    """
    r, g = red.astype(np.uint16), green.astype(np.uint16)
    return np.stack([r, g, (r + g) // 2], axis=-1).astype(np.uint8)


def potsdam_image(rgb: np.ndarray) -> np.ndarray:
    return false_colour(rgb[..., 0], rgb[..., 1])


def vaihingen_image(irrg: np.ndarray) -> np.ndarray:
    return false_colour(irrg[..., 1], irrg[..., 2])


def _open_isprs(reader: Reader, root: Path, split: str):
    if split == "train":
        images = reader.glob(root / "potsdam" / "2_Ortho_RGB", "top_potsdam_*_RGB.tif")
        labels = reader.need(root / "potsdam" / "5_Labels_all")
        tiles = [(p.stem[: -len("_RGB")], p, labels / (p.stem[: -len("_RGB")] + "_label.tif")) for p in images]
        image_fn = potsdam_image
    else:
        images = reader.glob(root / "vaihingen" / "top", "top_mosaic_09cm_area*.tif")
        labels = reader.need(root / "vaihingen" / "ground_truth")
        tiles = [(p.stem, p, labels / p.name) for p in images]
        image_fn = vaihingen_image
    for _, _, label in tiles:
        reader.need(label)
    keys, pairs = _patch_pairs(tiles)
    return reader.source(keys, pairs, Decoder(labelmaps.ByColour(ISPRS_PALETTE), image_fn=image_fn))


ISPRS = Reader(
    name="isprs",
    url="https://www.isprs.org/education/benchmarks/UrbanSemLab/ (Potsdam and Vaihingen 2D labelling)",
    layout="""\
potsdam/2_Ortho_RGB/top_potsdam_2_10_RGB.tif          train tiles (6000 x 6000, RGB)
potsdam/5_Labels_all/top_potsdam_2_10_label.tif       colour-coded labels of all 38 tiles
vaihingen/top/top_mosaic_09cm_area1.tif               validation tiles (IRRG)
vaihingen/ground_truth/top_mosaic_09cm_area1.tif      full reference (..._ground_truth_COMPLETE.zip)
  colours: white impervious 1, blue building 2, cyan low vegetation 3, green tree 4, yellow car 5,
  red clutter 6, anything else void; images become (R, G, (R+G)/2); 800 px patches, 200 px overlap""",
    open_fn=_open_isprs,
)

# ----------------------------------------------------------------------------------------------- iSAID

# iSAID semantic-mask colours (iSAID devkit), read as RGB as in the FIDS release.
ISAID_PALETTE = {
    (0, 0, 63): 1, (0, 63, 63): 2, (0, 63, 0): 3, (0, 63, 127): 4, (0, 63, 191): 5, (0, 63, 255): 6,
    (0, 127, 63): 7, (0, 127, 127): 8, (0, 0, 127): 9, (0, 0, 191): 10, (0, 0, 255): 11,
    (0, 191, 127): 12, (0, 127, 191): 13, (0, 127, 255): 14, (0, 100, 155): 15,
}
ISAID_SKIPPED = ("P1527", "P1530")
"""Images the iSAID devkit's patch splitter skips (and so does the FIDS release)."""


def _open_isaid(reader: Reader, root: Path, split: str):
    sub = {"train": "train", "validation": "val"}[split]
    images = [p for p in reader.glob(root / sub / "images", "P*.png") if p.stem not in ISAID_SKIPPED]
    masks = reader.need(root / sub / "Semantic_masks" / "images")
    tiles = [(p.stem, p, masks / f"{p.stem}_instance_color_RGB.png") for p in images]
    for _, _, label in tiles:
        reader.need(label)
    keys, pairs = _patch_pairs(tiles)
    return reader.source(keys, pairs, Decoder(labelmaps.ByColour(ISAID_PALETTE)))


ISAID = Reader(
    name="isaid",
    url="https://captain-whu.github.io/iSAID/ (images from DOTA-v1.0, iSAID semantic masks)",
    layout="""\
{train,val}/images/P0000.png
{train,val}/Semantic_masks/images/P0000_instance_color_RGB.png   colour-coded 15 classes (devkit colours)
  800 px patches with 200 px overlap; P1527 and P1530 are skipped as by the devkit""",
    open_fn=_open_isaid,
)

READERS = {r.name: r for r in (ISPRS, ISAID)}
