"""Readers for the indoor datasets: SUN RGB-D (37 classes) and ScanNet (NYU-40 classes, 25k frames).

Each ``Reader`` documents the original layout it expects under the dataset root; ``reader(root, split)``
returns a :class:`~transel_jax.data.real.files.FileSource`. Splits are "train" and "validation".
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from transel_jax.data.real import labelmaps
from transel_jax.data.real.files import Decoder, Pair, Reader, read_list

# --------------------------------------------------------------------------------------------- SUN RGB-D


def _open_sunrgbd(reader: Reader, root: Path, split: str):
    folder = {"train": "SUNRGBD-train_images", "validation": "SUNRGBD-test_images"}[split]
    images = reader.glob(root / folder, "img-*.jpg")
    labels = reader.need(root / "sunrgbd_train_test_labels")
    pairs = [Pair(p, labels / f"{p.stem}.png") for p in images]
    table = labelmaps.id_table({k: k for k in range(1, 38)}, size=256)  # 0 unlabelled -> void
    return reader.source([p.stem for p in images], pairs, Decoder(labelmaps.ByTable(table)))


SUNRGBD = Reader(
    name="sunrgbd",
    url="https://rgbd.cs.princeton.edu/ (SUN RGB-D; 37-class 2D segmentation images and labels)",
    layout="""\
SUNRGBD-train_images/img-005051.jpg   (train: img-005051 .. img-010335)
SUNRGBD-test_images/img-000001.jpg    (validation = the benchmark test set: img-000001 .. img-005050)
sunrgbd_train_test_labels/img-000001.png   uint8: 0 unlabelled -> void, 1..37 -> 1..37""",
    open_fn=_open_sunrgbd,
)

# ----------------------------------------------------------------------------------------------- ScanNet


def scannet_table(tsv: Path) -> np.ndarray:
    """Raw ScanNet label id -> NYU-40 id (0 = void) from ``scannetv2-labels.combined.tsv``."""
    with open(tsv, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    mapping = {int(r["id"]): int(r["nyu40id"]) for r in rows if r.get("nyu40id", "").strip()}
    return labelmaps.id_table({k: v for k, v in mapping.items() if 1 <= v <= 40}, size=max(mapping) + 1)


NYU40_TABLE = labelmaps.id_table({k: k for k in range(1, 41)}, size=65536)
"""NYU-40 id k in 1..40 -> label k; 0 and anything larger -> void."""


def _open_scannet(reader: Reader, root: Path, split: str):
    listed = {"train": "scannetv2_train.txt", "validation": "scannetv2_val.txt"}[split]
    scenes = set(read_list(reader.need(root / listed)))
    tsv = root / "scannetv2-labels.combined.tsv"
    table = scannet_table(tsv) if tsv.exists() else NYU40_TABLE
    frames = [p for p in reader.glob(root / "scannet_frames_25k", "*/color/*.jpg") if p.parent.parent.name in scenes]
    keys = [f"{p.parent.parent.name}/{p.stem}" for p in frames]
    pairs = [Pair(p, p.parent.parent / "label" / f"{p.stem}.png") for p in frames]
    return reader.source(keys, pairs, Decoder(labelmaps.ByTable(table)))


SCANNET = Reader(
    name="scannet",
    url="http://www.scan-net.org/ (ScanNet v2 terms of use; scannet_frames_25k.zip)",
    layout="""\
scannet_frames_25k/scene0000_00/color/000000.jpg
scannet_frames_25k/scene0000_00/label/000000.png   NYU-40 ids: 0 -> void, 1..40 -> 1..40
scannetv2_{train,val}.txt                          official scene lists
scannetv2-labels.combined.tsv   (optional) only if your label images hold raw ScanNet ids: they are
                                then mapped through its id -> nyu40id columns""",
    open_fn=_open_scannet,
)

READERS = {r.name: r for r in (SUNRGBD, SCANNET)}
