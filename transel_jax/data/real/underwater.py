"""Reader for the underwater dataset SUIM.

``reader(root, split)`` returns a :class:`~transel_jax.data.real.files.FileSource`; "validation" is the
official TEST folder (the split the papers evaluate on).
"""
from __future__ import annotations

from pathlib import Path

from transel_jax.data.real import labelmaps
from transel_jax.data.real.files import Decoder, Pair, Reader

# SUIM mask colours (after thresholding each channel at 128). Black = water body ("background"),
# which the FIDS release treats as void.
SUIM_PALETTE = {
    (0, 0, 255): 1,  # HD human divers
    (0, 255, 0): 2,  # PF plants / sea-grass
    (0, 255, 255): 3,  # WR wrecks / ruins
    (255, 0, 0): 4,  # RO robots / instruments
    (255, 0, 255): 5,  # RI reefs and invertebrates
    (255, 255, 0): 6,  # FV fish and vertebrates
    (255, 255, 255): 7,  # SR sand / sea-floor and rocks
}


def _open_suim(reader: Reader, root: Path, split: str):
    base = root / "train_val" if split == "train" else reader.first(root / "TEST", root / "test")
    images = reader.glob(base / "images", "*.jpg")
    masks = reader.need(base / "masks")
    pairs = [Pair(p, masks / f"{p.stem}.bmp") for p in images]
    decoder = Decoder(labelmaps.ByColour(SUIM_PALETTE, binarize=True), crop_label=True)
    return reader.source([p.stem for p in images], pairs, decoder)


SUIM = Reader(
    name="suim",
    url="https://irvlab.cs.umn.edu/resources/suim-dataset (SUIM: train_val and TEST)",
    layout="""\
train_val/images/d_r_122_.jpg    train_val/masks/d_r_122_.bmp
TEST/images/d_r_47_.jpg          TEST/masks/d_r_47_.bmp      (validation; "test" also accepted)
  RGB masks thresholded per channel at 128: black water body -> void, blue divers 1, green plants 2,
  cyan wrecks 3, red robots 4, magenta reefs 5, yellow fish 6, white sea-floor 7; masks larger than
  their image are cropped to it""",
    open_fn=_open_suim,
)

READERS = {SUIM.name: SUIM}
