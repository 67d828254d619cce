"""TFDS builder for the 17 real datasets, without TensorFlow.

One builder, ``transel_real``, with one config per dataset (``transel_real/cityscapes``, ...). It reads
the user's local files (the dataset root is TFDS's *manual dir*; nothing is ever downloaded), writes
``array_record`` files, and is read back with ``tfds.data_source`` as a random-access source:

>>> from transel_jax.data.real import tfds_builder
>>> tfds_builder.prepare("suim", root="~/data/suim", data_dir="~/tfds")          # doctest: +SKIP
>>> src = tfds_builder.prepared_source("suim", "train", data_dir="~/tfds")       # doctest: +SKIP
>>> src[0]["image"].shape, src[0]["label"].dtype                                 # doctest: +SKIP
((h, w, 3), dtype('uint8'))

Features (TFDS' ``Image`` feature needs TensorFlow to encode, ``Tensor`` does not):

* ``image``: the encoded image bytes, a scalar ``Tensor`` of bytes: the original JPEG/PNG file where the
  image is used as stored (no re-encoding, no growth on disk), lossless PNG for aerial patches and
  converted ISPRS colours. :func:`prepared_source` decodes it to uint8 [H, W, 3]; with raw
  ``tfds.data_source`` use :func:`transel_jax.data.real.files.decode_image`.
* ``label``: uint8 [H, W] (0 = void), a zlib-compressed ``Tensor``.

Shuffling at write time is disabled, so example ``i`` of the prepared split is example ``i`` of the direct
reader and the target subset (the first N training examples) is the same set of images on both paths.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from transel_jax.data.real import facts
from transel_jax.data.real.classes import CLASSES
from transel_jax.data.real.files import MissingDataError, decode_image, iter_encoded
from transel_jax.data.real.readers import READERS

BUILDER_NAME = "transel_real"


class TranselReal(tfds.core.GeneratorBasedBuilder):
    """The 17 segmentation datasets of the Factors-of-Influence study, read from local files."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Encoded image bytes; labels uint8 0..C (0 = void) as a zlib tensor."}
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name=name, description=f"{name}: {READERS[name].url}") for name in facts.NAMES
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Download the dataset from its official site and pass its root folder as the manual dir; "
        "`transel_jax.data.catalog.info(name).description` shows the expected layout."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        name = self.builder_config.name
        return tfds.core.DatasetInfo(
            builder=self,
            description=f"{name} semantic segmentation, labels 0..{len(CLASSES[name]) - 1} (0 = void).",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=(), dtype=np.object_),  # encoded JPEG/PNG bytes
                "label": tfds.features.Tensor(
                    shape=(None, None), dtype=np.uint8, encoding=tfds.features.Encoding.ZLIB),
            }),
            metadata=tfds.core.MetadataDict(class_names=list(CLASSES[name])),
            disable_shuffling=True,
        )

    def _split_generators(self, dl_manager):
        name = self.builder_config.name
        root = Path(dl_manager.manual_dir)
        return {split: self._generate_examples(root, split) for split in facts.split_names(name)}

    def _generate_examples(self, root: Path, split: str):
        source = READERS[self.builder_config.name](root, split)
        with tempfile.TemporaryDirectory(prefix=f"transel_real_{split}_", dir=self.data_dir_root) as spill:
            yield from iter_encoded(source, Path(spill))


def _check_name(name: str) -> None:
    if name not in READERS:
        raise ValueError(f"name: expected one of {sorted(READERS)}, got {name!r}")


def prepare(name: str, root: str | Path, data_dir: str | Path) -> Path:
    """Build ``transel_real/<name>`` from the original files under ``root`` into ``data_dir``.

    Every split is opened first, so a missing file or an empty split (which TFDS cannot write) fails at
    once with the expected layout. Returns the folder holding the array_record files. Progress bars come
    from TFDS.
    """
    _check_name(name)
    root = Path(root).expanduser()
    for split in facts.split_names(name):
        if len(READERS[name](root, split)) == 0:
            raise MissingDataError(f"{name}: expected examples of the {split!r} split under {root}, found none. "
                                   f"Expected layout:\n{READERS[name].layout}")
    builder = TranselReal(config=name, data_dir=str(Path(data_dir).expanduser()), file_format="array_record")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(root)))
    return Path(builder.data_dir)


def prepared_source(name: str, split: str, data_dir: str | Path) -> "PreparedSource":
    """Random-access source of a prepared split: ``src[i] -> {"image": uint8 [H, W, 3], "label": uint8 [H, W]}``."""
    _check_name(name)
    folder = Path(data_dir).expanduser() / BUILDER_NAME / name
    if not list(folder.glob("*/dataset_info.json")):
        raise MissingDataError(
            f"{name}: expected a prepared dataset under {folder}, found none. Build it once with "
            f"transel_jax.data.real.tfds_builder.prepare({name!r}, root=<original files>, data_dir={str(data_dir)!r})."
        )
    records = tfds.data_source(
        f"{BUILDER_NAME}/{name}", split=split, data_dir=str(Path(data_dir).expanduser()), download=False,
    )
    return PreparedSource(records)


class PreparedSource:
    """``tfds.data_source`` records with the image bytes decoded: the same examples as the direct reader."""

    def __init__(self, records):
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        return {"image": decode_image(record["image"]), "label": np.asarray(record["label"])}

    def __repr__(self) -> str:
        return f"PreparedSource({self.records!r})"
