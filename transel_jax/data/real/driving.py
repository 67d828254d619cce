"""Readers for the driving datasets: KITTI, CamVid, Cityscapes, IDD, BDD, Mapillary Vistas.

Each ``Reader`` documents the original layout it expects under the dataset root; ``reader(root, split)``
returns a :class:`~transel_jax.data.real.files.FileSource`. Splits are "train" and "validation".
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from transel_jax.data.real import labelmaps
from transel_jax.data.real.classes import CLASSES
from transel_jax.data.real.files import Decoder, Pair, Reader, read_list

# Cityscapes labelIds 0..33: 0 "unlabeled" and 3 "out of roi" -> void (as in the FIDS release);
# 1, 2 keep their value; 4..33 ("static" .. "bicycle") -> id - 1. "license plate" (-1) never reaches a PNG.
CITYSCAPES_TABLE = labelmaps.id_table({1: 1, 2: 2, **{i: i - 1 for i in range(4, 34)}}, size=256)


def _as_is(raw: np.ndarray, pair: Pair) -> np.ndarray:
    return raw.astype(np.uint8)


# ------------------------------------------------------------------------------------------ Cityscapes


def _open_cityscapes(reader: Reader, root: Path, split: str):
    sub = {"train": "train", "validation": "val"}[split]
    images = reader.glob(root / "leftImg8bit" / sub, "*/*_leftImg8bit.png")
    gt = reader.need(root / "gtFine" / sub)
    keys = [p.name[: -len("_leftImg8bit.png")] for p in images]
    pairs = [Pair(p, gt / p.parent.name / f"{k}_gtFine_labelIds.png") for p, k in zip(images, keys)]
    return reader.source(keys, pairs, Decoder(labelmaps.ByTable(CITYSCAPES_TABLE)))


CITYSCAPES = Reader(
    name="cityscapes",
    url="https://www.cityscapes-dataset.com/downloads/ (leftImg8bit_trainvaltest.zip, gtFine_trainvaltest.zip)",
    layout="""\
leftImg8bit/{train,val}/<city>/<city>_000000_000019_leftImg8bit.png
gtFine/{train,val}/<city>/<city>_000000_000019_gtFine_labelIds.png
  labelIds 0..33: 0 unlabeled and 3 out of roi -> void; 1, 2 -> 1, 2; 4..33 -> id - 1""",
    open_fn=_open_cityscapes,
)

# ----------------------------------------------------------------------------------------------- KITTI

KITTI_TRAIN_SIZE = 150
"""KITTI has 200 labelled images; the first 150 (sorted by name) form our train split, the last 50 our
validation split (150/50 as in 002 Tab. 1; the release's own file lists are not reproduced here)."""


def _open_kitti(reader: Reader, root: Path, split: str):
    images = reader.glob(root / "training" / "image_2", "*.png")
    images = images[:KITTI_TRAIN_SIZE] if split == "train" else images[KITTI_TRAIN_SIZE:]
    sem = reader.need(root / "training" / "semantic")
    pairs = [Pair(p, sem / p.name) for p in images]
    return reader.source([p.stem for p in images], pairs, Decoder(labelmaps.ByTable(CITYSCAPES_TABLE)))


KITTI = Reader(
    name="kitti",
    url="http://www.cvlibs.net/datasets/kitti/eval_semseg.php (data_semantics.zip)",
    layout="""\
training/image_2/000000_10.png
training/semantic/000000_10.png   Cityscapes labelIds (mapped as for cityscapes)
  train = first 150 files by name, validation = remaining 50""",
    open_fn=_open_kitti,
)

# ---------------------------------------------------------------------------------------------- CamVid

# Colours of the 32-class CamVid annotation (label_colors.txt of the original release), by class name.
CAMVID_COLOURS = {
    "Animal": (64, 128, 64), "Archway": (192, 0, 128), "Bicyclist": (0, 128, 192),
    "Bridge": (0, 128, 64), "Building": (128, 0, 0), "Car": (64, 0, 128),
    "CartLuggagePram": (64, 0, 192), "Child": (192, 128, 64), "Column_Pole": (192, 192, 128),
    "Fence": (64, 64, 128), "LaneMkgsDriv": (128, 0, 192), "LaneMkgsNonDriv": (192, 0, 64),
    "Misc_Text": (128, 128, 64), "MotorcycleScooter": (192, 0, 192), "OtherMoving": (128, 64, 64),
    "ParkingBlock": (64, 192, 128), "Pedestrian": (64, 64, 0), "Road": (128, 64, 128),
    "RoadShoulder": (128, 128, 192), "Sidewalk": (0, 0, 192), "SignSymbol": (192, 128, 128),
    "Sky": (128, 128, 128), "SUVPickupTruck": (64, 128, 192), "TrafficCone": (0, 0, 64),
    "TrafficLight": (0, 64, 64), "Train": (192, 64, 128), "Tree": (128, 128, 0),
    "Truck_Bus": (192, 128, 192), "Tunnel": (64, 0, 64), "VegetationMisc": (192, 192, 0),
    "Wall": (64, 192, 0),
}  # "Void" is (0, 0, 0); like every colour not listed it maps to label 0.
CAMVID_PALETTE = {CAMVID_COLOURS[n]: k for k, n in enumerate(CLASSES["camvid"]) if k > 0}


def _open_camvid(reader: Reader, root: Path, split: str):
    listed = read_list(reader.need(root / {"train": "train.txt", "validation": "val.txt"}[split]))
    stems = [Path(line.split()[0]).stem for line in listed]
    images, labels = reader.need(root / "701_StillsRaw_full"), reader.need(root / "LabeledApproved_full")
    pairs = [Pair(images / f"{s}.png", labels / f"{s}_L.png") for s in stems]
    return reader.source(stems, pairs, Decoder(labelmaps.ByColour(CAMVID_PALETTE)))


CAMVID = Reader(
    name="camvid",
    url="http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamVid/ (701_StillsRaw_full, LabeledApproved_full)",
    layout="""\
701_StillsRaw_full/0001TP_006690.png
LabeledApproved_full/0001TP_006690_L.png   colour-coded 32-class masks (label_colors.txt colours)
{train,val}.txt   the standard 367/101 split (SegNet lists); one image per line, first token a
                  path or stem, e.g. "0001TP_006690" or "/CamVid/train/0001TP_006690.png ..." """,
    open_fn=_open_camvid,
)

# ------------------------------------------------------------------------------------------------- IDD

IDD_TABLE = {name: k for k, name in enumerate(CLASSES["idd"]) if k > 0}


def rasterize_polygons(path: Path) -> np.ndarray:
    """uint8 [imgHeight, imgWidth] labels from a Cityscapes-style ``*_gtFine_polygons.json``.

    Objects are drawn in file order (later ones on top). A label "<name>group" without its own class
    falls back to "<name>"; names without a class ("unlabeled", "out of roi", "ego vehicle",
    "rectification border", "license plate", "train") are drawn as void, as in the FIDS release.
    """
    from PIL import Image, ImageDraw

    data = json.loads(Path(path).read_text())
    canvas = Image.new("L", (int(data["imgWidth"]), int(data["imgHeight"])), 0)
    draw = ImageDraw.Draw(canvas)
    for obj in data["objects"]:
        if obj.get("deleted") or len(obj["polygon"]) < 3:
            continue
        name = obj["label"]
        if name not in IDD_TABLE and name.endswith("group"):
            name = name[: -len("group")]
        draw.polygon([tuple(map(float, xy)) for xy in obj["polygon"]], fill=IDD_TABLE.get(name, 0))
    return np.asarray(canvas)


def _open_idd(reader: Reader, root: Path, split: str):
    sub = {"train": "train", "validation": "val"}[split]
    base = root / "IDD_Segmentation"
    images = reader.glob(base / "leftImg8bit" / sub, "*/*_leftImg8bit.png")
    gt = reader.need(base / "gtFine" / sub)
    keys = [f"{p.parent.name}/{p.name[: -len('_leftImg8bit.png')]}" for p in images]
    pairs = [Pair(p, gt / f"{k}_gtFine_polygons.json") for p, k in zip(images, keys)]
    return reader.source(keys, pairs, Decoder(_as_is, read_label=rasterize_polygons))


IDD = Reader(
    name="idd",
    url="https://idd.insaan.iiit.ac.in/ (IDD Segmentation, IDD_Segmentation.tar.gz)",
    layout="""\
IDD_Segmentation/leftImg8bit/{train,val}/<seq>/<frame>_leftImg8bit.png
IDD_Segmentation/gtFine/{train,val}/<seq>/<frame>_gtFine_polygons.json
  polygons rasterized in file order; label names matched to the 34 level-4 classes, others -> void""",
    open_fn=_open_idd,
)

# ------------------------------------------------------------------------------------------------- BDD


def _open_bdd(reader: Reader, root: Path, split: str):
    sub = {"train": "train", "validation": "val"}[split]
    images = reader.glob(root / "images" / "10k" / sub, "*.jpg")
    masks = reader.need(root / "labels" / "sem_seg" / "masks" / sub)
    pairs = [Pair(p, masks / f"{p.stem}.png") for p in images]
    table = labelmaps.shifted_table(19)  # trainId t in 0..18 -> t + 1; 255 -> void
    return reader.source([p.stem for p in images], pairs, Decoder(labelmaps.ByTable(table)))


BDD = Reader(
    name="bdd",
    url="https://bdd-data.berkeley.edu/ (BDD100K: 10K Images, Segmentation)",
    layout="""\
images/10k/{train,val}/<name>.jpg
labels/sem_seg/masks/{train,val}/<name>.png   trainIds 0..18 (-> 1..19), 255 -> void""",
    open_fn=_open_bdd,
)

# ------------------------------------------------------------------------------------ Mapillary Vistas


def _open_mapillary(reader: Reader, root: Path, split: str):
    sub = {"train": "training", "validation": "validation"}[split]
    images = reader.glob(root / sub / "images", "*.jpg")
    labels = reader.first(root / sub / "labels", root / sub / "v1.2" / "labels")  # v1.2 / v2.0 downloads
    pairs = [Pair(p, labels / f"{p.stem}.png") for p in images]
    table = labelmaps.shifted_table(66, void_ids=(65,))  # v1.2 id k in 0..64 -> k + 1; 65 Unlabeled -> void
    return reader.source([p.stem for p in images], pairs, Decoder(labelmaps.ByTable(table)))


MAPILLARY = Reader(
    name="mapillary",
    url="https://www.mapillary.com/dataset/vistas (Mapillary Vistas v1.2)",
    layout="""\
{training,validation}/images/<key>.jpg
{training,validation}/labels/<key>.png   v1.2 class ids 0..65 (palette PNG): k -> k + 1, 65 Unlabeled -> void
  (in the v2.0 download these are {training,validation}/v1.2/labels/<key>.png)""",
    open_fn=_open_mapillary,
)

READERS = {r.name: r for r in (KITTI, CAMVID, CITYSCAPES, IDD, BDD, MAPILLARY)}
