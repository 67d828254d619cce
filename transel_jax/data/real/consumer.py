"""Readers for the consumer-photo datasets: ADE20K, Pascal VOC 2012, Pascal Context, COCO Panoptic.

Each ``Reader`` documents the original layout it expects under the dataset root; ``reader(root, split)``
returns a :class:`~transel_jax.data.real.files.FileSource` (examples in the hash order of their ids, see
:func:`~transel_jax.data.real.files.example_order`). Splits are "train" and "validation" (the split the
papers evaluate on).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from transel_jax.data.real import labelmaps
from transel_jax.data.real.classes import CLASSES
from transel_jax.data.real.files import Decoder, Pair, Reader, read_list

# ---------------------------------------------------------------------------------------------- ADE20K


def _open_ade20k(reader: Reader, root: Path, split: str):
    sub = {"train": "training", "validation": "validation"}[split]
    base = root / "ADEChallengeData2016"
    images = reader.glob(base / "images" / sub, "*.jpg")
    labels = reader.need(base / "annotations" / sub)
    pairs = [Pair(p, labels / f"{p.stem}.png") for p in images]
    # Annotation value k (0 = "other objects", 1..150 the SceneParsing classes) is our label k.
    table = labelmaps.id_table({k: k for k in range(1, 151)}, size=256)
    return reader.source([p.stem for p in images], pairs, Decoder(labelmaps.ByTable(table)))


ADE20K = Reader(
    name="ade20k",
    url="http://sceneparsing.csail.mit.edu/ (ADEChallengeData2016.zip)",
    layout="""\
ADEChallengeData2016/images/{training,validation}/ADE_train_00000001.jpg
ADEChallengeData2016/annotations/{training,validation}/ADE_train_00000001.png
  uint8 PNG: 0 = other/unlabelled (-> void), 1..150 = classes (label k -> our label k)""",
    open_fn=_open_ade20k,
)

# ------------------------------------------------------------------------------------ Pascal VOC 2012


def _open_pvoc(reader: Reader, root: Path, split: str):
    base = root / "VOCdevkit" / "VOC2012"
    listed = {"train": "train.txt", "validation": "val.txt"}[split]
    ids = read_list(reader.need(base / "ImageSets" / "Segmentation" / listed))
    reader.need(base / "JPEGImages")
    reader.need(base / "SegmentationClass")
    pairs = [Pair(base / "JPEGImages" / f"{i}.jpg", base / "SegmentationClass" / f"{i}.png") for i in ids]
    # Palette index 1..20 -> label 1..20; 0 (background) and 255 (boundary) -> void, as in the FIDS release.
    table = labelmaps.id_table({k: k for k in range(1, 21)}, size=256)
    return reader.source(ids, pairs, Decoder(labelmaps.ByTable(table)))


PVOC = Reader(
    name="pvoc",
    url="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/ (VOCtrainval_11-May-2012.tar)",
    layout="""\
VOCdevkit/VOC2012/JPEGImages/2007_000032.jpg
VOCdevkit/VOC2012/SegmentationClass/2007_000032.png
  palette PNG: index 1..20 = classes (-> label 1..20), 0 = background and 255 = boundary (-> void)
VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val}.txt   (1,464 / 1,449 image ids)""",
    open_fn=_open_pvoc,
)

# -------------------------------------------------------------------------------------- Pascal Context


def _context_table(labels_txt: Path, reader: Reader) -> np.ndarray:
    """459-class id -> our 0..59 label, matching class names of ``labels.txt`` ("<id>: <name>")."""
    by_name = {}
    for line in read_list(labels_txt):
        ident, _, name = line.partition(":")
        by_name[name.strip()] = int(ident)
    wanted = CLASSES["pcontext"][1:]
    absent = [n for n in wanted if n not in by_name]
    if absent:
        raise ValueError(
            f"{reader.name}: expected {labels_txt} to name every class of the 59-class benchmark, "
            f"missing {absent}"
        )
    return labelmaps.id_table({by_name[n]: k for k, n in enumerate(wanted, start=1)}, size=max(by_name.values()) + 1)


def _read_context_mat(path: Path) -> np.ndarray:
    from scipy.io import loadmat

    return np.asarray(loadmat(path)["LabelMap"])


def _open_pcontext(reader: Reader, root: Path, split: str):
    ids = read_list(reader.need(root / {"train": "train.txt", "validation": "val.txt"}[split]))
    table = _context_table(reader.need(root / "labels.txt"), reader)
    images, mats = reader.need(root / "VOCdevkit" / "VOC2010" / "JPEGImages"), reader.need(root / "trainval")
    pairs = [Pair(images / f"{i}.jpg", mats / f"{i}.mat") for i in ids]
    return reader.source(ids, pairs, Decoder(labelmaps.ByTable(table), read_label=_read_context_mat))


PCONTEXT = Reader(
    name="pcontext",
    url="https://www.cs.stanford.edu/~roozbeh/pascal-context/ (trainval.tar.gz) + VOC2010 images",
    layout="""\
VOCdevkit/VOC2010/JPEGImages/2008_000002.jpg
trainval/2008_000002.mat      variable LabelMap: ids of the 459 full-context classes
labels.txt                    "<id>: <name>" for the 459 classes (from trainval.tar.gz)
{train,val}.txt               image ids of the 59-class benchmark split (4,998 / 5,105)
  the 59 benchmark classes (matched by name in labels.txt) -> labels 1..59; all others -> void""",
    open_fn=_open_pcontext,
)

# -------------------------------------------------------------------------------------- COCO Panoptic


def _coco_annotations(path: Path) -> tuple[dict[int, int], list[dict]]:
    """(category id -> our label, annotation records) from a panoptic JSON file."""
    data = json.loads(path.read_text())
    names = {n: k for k, n in enumerate(CLASSES["coco"])}
    unknown = [c["name"] for c in data["categories"] if c["name"] not in names]
    if unknown:
        raise ValueError(f"coco: expected panoptic categories named as in the 133-class list, got unknown {unknown}")
    return {c["id"]: names[c["name"]] for c in data["categories"]}, data["annotations"]


def _coco_labels(raw: np.ndarray, pair: Pair) -> np.ndarray:
    return labelmaps.segments_to_label(labelmaps.panoptic_ids(raw), dict(pair.extra))


def _open_coco(reader: Reader, root: Path, split: str):
    year = {"train": "train2017", "validation": "val2017"}[split]
    category_label, annotations = _coco_annotations(reader.need(root / "annotations" / f"panoptic_{year}.json"))
    masks, images = reader.need(root / "annotations" / f"panoptic_{year}"), reader.need(root / year)
    annotations = sorted(annotations, key=lambda a: a["file_name"])
    pairs = [
        Pair(
            images / (Path(a["file_name"]).stem + ".jpg"),
            masks / a["file_name"],
            extra=tuple((s["id"], category_label[s["category_id"]]) for s in a["segments_info"]),
        )
        for a in annotations
    ]
    return reader.source([Path(a["file_name"]).stem for a in annotations], pairs, Decoder(_coco_labels))


COCO = Reader(
    name="coco",
    url="https://cocodataset.org/#download (2017 images + panoptic_annotations_trainval2017.zip)",
    layout="""\
train2017/000000000009.jpg, val2017/000000000139.jpg
annotations/panoptic_{train,val}2017.json   categories (id, name) and per-image segments_info
annotations/panoptic_{train,val}2017/000000000009.png
  RGB PNG: segment id = R + 256 G + 65536 B; the segment's category (matched by name to the 133
  panoptic classes) -> labels 1..133; id 0 and unlisted segments -> void""",
    open_fn=_open_coco,
)

READERS = {r.name: r for r in (ADE20K, PVOC, PCONTEXT, COCO)}
