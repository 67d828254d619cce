"""The synthetic datasets: domain, scene mix, style, label space and split sizes of each.

Modelled on the papers' collection (002 Tab. 1): broad consumer datasets that also contain street and indoor
scenes, driving datasets that differ in weather and region, aerial RGB and false-colour infrared, indoor homes
and scans, clear and murky underwater, and synthetic (flat-shaded) driving and gallery renders. Each label
space is declared as ``class name -> concepts``: several concepts under one class is a merge, one concept per
class where others merge is a split, and concepts not listed (always including ``clutter``) are void.
Image ``i`` of a dataset indexes ``train`` first, then ``validation``, then ``test``.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from transel_jax.data.synthetic import styles
from transel_jax.data.synthetic.concepts import ID, NUM_CONCEPTS
from transel_jax.data.synthetic.layouts import SCENES

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class SyntheticDataset:
    """Recipe of one synthetic dataset.

    Attributes:
      name, domain: catalog name and appearance domain.
      scenes: (scene name, probability) pairs over :data:`layouts.SCENES`; probabilities sum to 1.
      style: appearance.
      classes: class name -> concepts it covers; class k (1-based, in order) is label k.
      splits: split -> number of images.
      boundary_void: label one-pixel object boundaries void (as Pascal VOC does).
      description: one line for people.
    """

    name: str
    domain: str
    scenes: tuple[tuple[str, float], ...]
    style: styles.Style
    classes: Mapping[str, tuple[str, ...]]
    splits: Mapping[str, int]
    boundary_void: bool = False
    description: str = ""

    def __post_init__(self):
        names = [s for s, _ in self.scenes]
        if set(names) - set(SCENES) or abs(sum(p for _, p in self.scenes) - 1.0) > 1e-6:
            raise ValueError(f"scenes: expected probabilities over {sorted(SCENES)} summing to 1, got {self.scenes}")
        covered = [c for cs in self.classes.values() for c in cs]
        if len(covered) != len(set(covered)) or set(covered) - set(ID) or "clutter" in covered:
            raise ValueError(f"classes: each concept (not 'clutter') may belong to at most one class, got {self.classes}")
        if tuple(self.splits) != SPLITS:
            raise ValueError(f"splits: expected keys {SPLITS}, got {tuple(self.splits)}")

    @property
    def class_names(self) -> tuple[str, ...]:
        return ("void",) + tuple(self.classes)

    @property
    def label_of_concept(self) -> np.ndarray:
        """uint8 [NUM_CONCEPTS]: the dataset label of every concept (0 = void)."""
        lut = np.zeros(NUM_CONCEPTS, np.uint8)
        for label, concepts in enumerate(self.classes.values(), start=1):
            lut[[ID[c] for c in concepts]] = label
        return lut

    @property
    def size(self) -> int:
        return sum(self.splits.values())

    def split_range(self, split: str) -> tuple[int, int]:
        """[start, stop) of ``split`` in the dataset's image index."""
        start = 0
        for name in SPLITS:
            if name == split:
                return start, start + self.splits[name]
            start += self.splits[name]
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")


def _splits(train: int, validation: int, test: int) -> dict[str, int]:
    return {"train": train, "validation": validation, "test": test}


_STREET = {"sky": ("sky",), "road": ("road", "lane_marking"), "sidewalk": ("sidewalk",), "building": ("building",),
           "vegetation": ("vegetation",), "terrain": ("terrain",), "car": ("car",), "truck": ("truck",),
           "person": ("person",)}
_STREET_LANES = {"sky": ("sky",), "road": ("road",), "lane marking": ("lane_marking",),
                 **{k: v for k, v in _STREET.items() if k not in ("sky", "road")}}
_STREET_VEHICLE = {**{k: v for k, v in _STREET.items() if k not in ("car", "truck")}, "vehicle": ("car", "truck")}

DATASETS: tuple[SyntheticDataset, ...] = (
    SyntheticDataset(
        "syn_consumer_broad", "consumer",
        (("street", 0.35), ("indoor", 0.35), ("nature", 0.3)), styles.CONSUMER,
        {**_STREET_VEHICLE, "water": ("water",), "wall": ("wall",), "floor": ("floor",), "table": ("table",),
         "chair": ("chair",), "painting": ("painting",)},
        _splits(3000, 300, 300), description="broad photo collection: streets, rooms and outdoors (COCO-like)"),
    SyntheticDataset(
        "syn_consumer_context", "consumer",
        (("street", 0.5), ("nature", 0.5)), styles.CONSUMER_ALT,
        {"sky": ("sky",), "ground": ("road", "lane_marking", "sidewalk", "terrain"), "building": ("building",),
         "tree": ("vegetation",), "vehicle": ("car", "truck"), "person": ("person",), "water": ("water",)},
        _splits(1000, 200, 200), description="outdoor photos with coarse stuff classes (Pascal-Context-like)"),
    SyntheticDataset(
        "syn_consumer_objects", "consumer",
        (("indoor", 0.4), ("street", 0.4), ("nature", 0.2)), styles.CONSUMER,
        {"background": ("sky", "road", "lane_marking", "sidewalk", "building", "vegetation", "terrain", "water",
                        "wall", "floor", "painting"),
         "vehicle": ("car", "truck"), "person": ("person",), "chair": ("chair",), "table": ("table",)},
        _splits(600, 150, 150), boundary_void=True,
        description="object-centric photos, everything else background, void object outlines (VOC-like)"),
    SyntheticDataset(
        "syn_drive_day", "driving", (("street_hood", 1.0),), styles.DRIVE_DAY, _STREET,
        _splits(2000, 300, 300), description="daytime city driving, ego-vehicle bonnet void (Cityscapes-like)"),
    SyntheticDataset(
        "syn_drive_adverse", "driving", (("street", 1.0),), styles.DRIVE_ADVERSE, _STREET_VEHICLE,
        _splits(1500, 300, 300), description="driving at night, in fog and rain (BDD-like)"),
    SyntheticDataset(
        "syn_drive_region", "driving", (("street_unstructured", 1.0),), styles.DRIVE_REGION,
        {k: v for k, v in _STREET.items() if k != "sidewalk"},
        _splits(1000, 200, 200), description="unstructured roads without sidewalks, dusty palette (IDD-like)"),
    SyntheticDataset(
        "syn_drive_small", "driving", (("street", 1.0),), styles.DRIVE_ALT, _STREET_LANES,
        _splits(200, 100, 100), description="small driving set from another city, lane markings split (KITTI-like)"),
    SyntheticDataset(
        "syn_aerial_urban", "aerial", (("aerial", 1.0),), styles.AERIAL_URBAN,
        {"building": ("building",), "road": ("road", "lane_marking"), "tree": ("vegetation",),
         "low vegetation": ("terrain",), "car": ("car",), "truck": ("truck",), "water": ("water",)},
        _splits(1200, 200, 200), description="top-down RGB city blocks (iSAID/Potsdam-like)"),
    SyntheticDataset(
        "syn_aerial_irrg", "aerial", (("aerial", 1.0),), styles.AERIAL_IRRG,
        {"impervious surface": ("road", "lane_marking"), "building": ("building",), "low vegetation": ("terrain",),
         "tree": ("vegetation",), "car": ("car", "truck")},
        _splits(300, 100, 100), description="top-down false-colour infrared, water omitted (Vaihingen-like)"),
    SyntheticDataset(
        "syn_indoor_home", "indoor", (("indoor", 1.0),), styles.INDOOR_HOME,
        {"wall": ("wall",), "floor": ("floor",), "table": ("table",), "chair": ("chair",), "picture": ("painting",),
         "person": ("person",)},
        _splits(1500, 200, 200), description="warm-lit living rooms (SUN RGB-D-like)"),
    SyntheticDataset(
        "syn_indoor_scan", "indoor", (("indoor", 1.0),), styles.INDOOR_SCAN,
        {"wall": ("wall",), "floor": ("floor",), "furniture": ("table", "chair"), "picture": ("painting",),
         "person": ("person",)},
        _splits(300, 100, 100), description="blurry, noisy, cool-lit room scans, furniture merged (ScanNet-like)"),
    SyntheticDataset(
        "syn_underwater_reef", "underwater", (("underwater", 1.0),), styles.UNDERWATER_CLEAR,
        {"water": ("water",), "fish": ("fish",), "reef": ("reef",), "sea floor": ("sand",), "diver": ("person",)},
        _splits(800, 150, 150), description="clear blue reef dives (SUIM-like)"),
    SyntheticDataset(
        "syn_underwater_murky", "underwater", (("underwater", 1.0),), styles.UNDERWATER_MURKY,
        {"water": ("water",), "fish": ("fish",), "sea floor": ("sand", "reef"), "diver": ("person",)},
        _splits(150, 100, 100), description="turbid green water, reef merged into sea floor"),
    SyntheticDataset(
        "syn_virtual_drive", "synthetic", (("street", 1.0),), styles.VIRTUAL_DRIVE, _STREET_LANES,
        _splits(1500, 200, 200), description="flat-shaded rendered driving (vKITTI2-like)"),
    SyntheticDataset(
        "syn_virtual_gallery", "synthetic", (("gallery", 1.0),), styles.VIRTUAL_GALLERY,
        {"wall": ("wall",), "floor": ("floor",), "painting": ("painting",), "furniture": ("table", "chair"),
         "person": ("person",)},
        _splits(400, 100, 100), description="flat-shaded rendered gallery rooms (vGallery-like)"),
)
BY_NAME: dict[str, SyntheticDataset] = {d.name: d for d in DATASETS}

# The demo's held-out targets: one dataset from each of five domains, never used as a source.
DEMO_TARGETS: tuple[str, ...] = (
    "syn_consumer_objects", "syn_drive_small", "syn_aerial_irrg", "syn_indoor_scan", "syn_underwater_murky")
DEMO_SOURCES: tuple[str, ...] = tuple(d.name for d in DATASETS if d.name not in DEMO_TARGETS)


def get(name: str) -> SyntheticDataset:
    if name not in BY_NAME:
        raise ValueError(f"name: expected one of {sorted(BY_NAME)}, got {name!r}")
    return BY_NAME[name]
