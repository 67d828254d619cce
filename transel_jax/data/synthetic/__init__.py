"""The embedded multi-domain synthetic segmentation suite (the project's default world).

Fifteen procedurally generated datasets in six appearance domains (consumer, driving, aerial, indoor,
underwater, synthetic) over a shared pool of 19 concepts (:data:`CONCEPTS`), each with its own label space
(merges, splits, omissions; 0 = void), sizes from 150 to 3000 training images and sub-styles (weather,
region, false colour, murky water). Image ``i`` of dataset ``d`` is a pure function of ``(seed, d, i)``;
see :mod:`.generate`. Importing this package registers every dataset in :mod:`transel_jax.data.catalog`
with ``suite="synthetic"``; ``catalog.load(name, split, seed=0, resolution=64)`` returns a
:class:`SyntheticSource`.

>>> from transel_jax.data import catalog
>>> src = catalog.load("syn_drive_day", "train")
>>> src[0]["image"].shape, src[0]["label"].shape
((64, 64, 3), (64, 64))
"""
from __future__ import annotations

from transel_jax.data import catalog
from transel_jax.data.synthetic.concepts import CONCEPTS
from transel_jax.data.synthetic.datasets import DATASETS, DEMO_SOURCES, DEMO_TARGETS, SyntheticDataset, get
from transel_jax.data.synthetic.generate import MAX_RESOLUTION, generate, image_key
from transel_jax.data.synthetic.normalisation import STATS
from transel_jax.data.synthetic.source import SyntheticSource, arrays

DEFAULT_RESOLUTION = 64
SUITE = "synthetic"

__all__ = [
    "CONCEPTS", "DATASETS", "DEMO_SOURCES", "DEMO_TARGETS", "DEFAULT_RESOLUTION", "MAX_RESOLUTION", "SUITE",
    "SyntheticDataset", "SyntheticSource", "arrays", "dataset_info", "generate", "get", "image_key",
]


def dataset_info(name: str, resolution: int = DEFAULT_RESOLUTION) -> catalog.DatasetInfo:
    """Catalog facts of dataset ``name``, with training resolution ``(resolution, resolution)``."""
    dataset = get(name)
    mean, std = STATS[name]
    return catalog.DatasetInfo(
        name=name, domain=dataset.domain, class_names=dataset.class_names, splits=dict(dataset.splits),
        mean=mean, std=std, resolution=(resolution, resolution), target_train_size=150, suite=SUITE,
        description=f"synthetic: {dataset.description}; generated on demand, no files",
    )


def _loader(name: str):
    def load(split: str, *, seed: int = 0, resolution: int = DEFAULT_RESOLUTION) -> SyntheticSource:
        return SyntheticSource(name, split, seed=seed, resolution=resolution)

    return load


for _dataset in DATASETS:
    catalog.register(dataset_info(_dataset.name), _loader(_dataset.name))
