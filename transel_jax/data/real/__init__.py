"""The 17 real segmentation datasets of the Factors-of-Influence study, read from local files.

Importing this package registers every dataset in :mod:`transel_jax.data.catalog` (suite "real"):

>>> from transel_jax.data import catalog
>>> catalog.info("cityscapes").num_labels
33
>>> src = catalog.load("cityscapes", "train", root="~/data/cityscapes")        # doctest: +SKIP
>>> src = catalog.load("cityscapes", "train", prepared_dir="~/tfds")           # doctest: +SKIP

Two ways to read a split:

* directly from the original files (``root=``, default ``$TRANSEL_REAL_DATA/<name>``): a
  :class:`~transel_jax.data.real.files.FileSource`;
* from a prepared TFDS ``array_record`` dataset (``prepared_dir=``), built once with
  :func:`transel_jax.data.real.tfds_builder.prepare` and read with ``tfds.data_source``.

Both give ``src[i] == {"image": uint8 [H, W, 3], "label": uint8 [H, W]}`` (0 = void) in the same order.
Nothing is ever downloaded: a missing file raises :class:`~transel_jax.data.real.files.MissingDataError`
naming the path and the expected layout (see ``catalog.info(name).description``).
"""
from __future__ import annotations

import functools
from pathlib import Path

from transel_jax.data import catalog
from transel_jax.data.real import facts
from transel_jax.data.real.files import FileSource, MissingDataError, default_root
from transel_jax.data.real.readers import READERS

__all__ = ["READERS", "FileSource", "MissingDataError", "load", "default_root"]


def load(name: str, split: str, *, root: str | Path | None = None, prepared_dir: str | Path | None = None):
    """Random-access source of ``split`` of real dataset ``name``.

    Args:
      name: one of ``catalog.names(suite="real")``.
      split: "train" or "validation".
      root: folder with the original files (default ``$TRANSEL_REAL_DATA/<name>``).
      prepared_dir: TFDS data_dir of a prepared ``transel_real/<name>``; when given, ``root`` is unused.
    """
    if name not in READERS:
        raise ValueError(f"name: expected one of {sorted(READERS)}, got {name!r}")
    if split not in facts.split_names(name):
        raise ValueError(f"split: expected one of {list(facts.split_names(name))} for {name!r}, got {split!r}")
    if prepared_dir is not None:
        from transel_jax.data.real import tfds_builder

        return tfds_builder.prepared_source(name, split, prepared_dir)
    return READERS[name](default_root(name) if root is None else root, split)


def _description(name: str) -> str:
    reader = READERS[name]
    return f"Obtain from {reader.url}. Expected layout under the dataset root:\n{reader.layout}"


for _name in facts.NAMES:
    catalog.register(facts.dataset_info(_name, _description(_name)), functools.partial(load, _name))
