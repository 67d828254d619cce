"""Dataset facts and splits as a run sees them.

For the synthetic suite the run chooses the resolution (``config.data.resolution``) and the suite seed
(``config.data.suite_seed``); real datasets come from the catalog as registered (``config.data.data_dir``
for their files). ``limit`` keeps the first examples of a split (the papers evaluate on full splits; the
demo caps them to fit its time budget).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from transel_jax.data import catalog, pipeline


def info(config, name: str) -> catalog.DatasetInfo:
    facts = catalog.info(name)
    if facts.suite == "synthetic" and config.data.resolution:
        r = int(config.data.resolution)
        facts = dataclasses.replace(facts, resolution=(r, r))
    return facts


def split(config, name: str, split_name: str, limit: int = 0):
    """Random-access source of ``split_name``; its first ``limit`` examples when ``limit > 0``."""
    facts = catalog.info(name)
    if facts.suite == "synthetic":
        kwargs = {"seed": int(config.data.suite_seed)}
        if config.data.resolution:
            kwargs["resolution"] = int(config.data.resolution)
    else:
        kwargs = {"prepared_dir": config.data.data_dir} if config.data.data_dir else {}
    source = catalog.load(name, split_name, **kwargs)
    if limit and limit < len(source):
        source = pipeline.Subset(source, np.arange(limit))
    return source


def train_images(config, name: str) -> int:
    """Number of images of the training split (N_s of BASE)."""
    return int(catalog.info(name).splits["train"])
