"""Readers for the synthetic datasets: Virtual KITTI 2 (driving) and Virtual Gallery (indoor).

Both are rendered with per-class colours; ``reader(root, split)`` returns a
:class:`~transel_jax.data.real.files.FileSource` (examples in the hash order of their ids).
"""
from __future__ import annotations

from pathlib import Path

from transel_jax.data.real import labelmaps
from transel_jax.data.real.files import Decoder, Pair, Reader

# ---------------------------------------------------------------------------------------------- vKITTI2

# classSegmentation colours of vKITTI2 (colors.txt); (0, 0, 0) "Undefined" and unknown colours -> void.
VKITTI2_PALETTE = {
    (210, 0, 200): 1, (90, 200, 255): 2, (0, 199, 0): 3, (90, 240, 0): 4, (140, 140, 140): 5,
    (100, 60, 100): 6, (250, 100, 255): 7, (255, 255, 0): 8, (200, 200, 0): 9, (255, 130, 0): 10,
    (80, 80, 80): 11, (160, 60, 60): 12, (255, 127, 80): 13, (0, 139, 139): 14,
}
VKITTI2_SCENES = {"train": ("Scene01", "Scene02", "Scene06", "Scene20"), "validation": ("Scene18",)}
"""Scene18 is held out for evaluation, the other four drives train (as in the FIDS release)."""


def _open_vkitti2(reader: Reader, root: Path, split: str):
    images = []
    for scene in VKITTI2_SCENES[split]:
        images += reader.glob(root / scene, "*/frames/rgb/Camera_*/rgb_*.jpg")
    keys, pairs = [], []
    for p in images:
        variant_dir, camera = p.parents[3], p.parent.name
        frame = p.stem[len("rgb_"):]
        keys.append(f"{variant_dir.parent.name}/{variant_dir.name}/{camera}/{frame}")
        pairs.append(Pair(p, variant_dir / "frames" / "classSegmentation" / camera / f"classgt_{frame}.png"))
    return reader.source(keys, pairs, Decoder(labelmaps.ByColour(VKITTI2_PALETTE)))


VKITTI2 = Reader(
    name="vkitti2",
    url="https://europe.naverlabs.com/research/computer-vision/proxy-virtual-worlds-vkitti-2/ "
    "(rgb and classSegmentation tars)",
    layout="""\
Scene01/clone/frames/rgb/Camera_0/rgb_00000.jpg                      (vkitti_2.0.3_rgb.tar)
Scene01/clone/frames/classSegmentation/Camera_0/classgt_00000.png    (vkitti_2.0.3_classSegmentation.tar)
  both archives extracted into the same root; train = Scene01, 02, 06, 20; validation = Scene18""",
    open_fn=_open_vkitti2,
)

# --------------------------------------------------------------------------------------------- vGallery

# classsegmentation colours of Virtual Gallery; (0, 0, 0) background and unknown colours -> void.
VGALLERY_PALETTE = {
    (255, 127, 80): 1, (255, 248, 220): 2, (0, 255, 255): 3, (189, 183, 107): 4, (230, 230, 250): 5,
    (233, 150, 122): 6, (80, 80, 80): 7, (128, 0, 0): 8, (0, 255, 0): 9,
}


def _open_vgallery(reader: Reader, root: Path, split: str):
    base = root / {"train": "training", "validation": "testing"}[split]
    images = reader.glob(base, "*/frames/rgb/camera_*/rgb_*.jpg")
    keys, pairs = [], []
    for p in images:
        loop_dir, camera, frame = p.parents[3], p.parent.name, p.stem[len("rgb_"):]
        keys.append(f"{loop_dir.name}/{camera}/{frame}")
        pairs.append(Pair(p, loop_dir / "frames" / "classsegmentation" / camera / f"classgt_{frame}.png"))
    return reader.source(keys, pairs, Decoder(labelmaps.ByColour(VGALLERY_PALETTE)))


VGALLERY = Reader(
    name="vgallery",
    url="https://europe.naverlabs.com/research/3d-vision/virtual-gallery-dataset/",
    layout="""\
training/gallery_light1_loop1/frames/rgb/camera_0/rgb_00000.jpg
training/gallery_light1_loop1/frames/classsegmentation/camera_0/classgt_00000.png
testing/...   (same structure; the validation split)""",
    open_fn=_open_vgallery,
)

READERS = {r.name: r for r in (VKITTI2, VGALLERY)}
