"""The synthetic suite as a TFDS builder (array_record files; TensorFlow not needed).

One builder config per dataset (config name = dataset name, 64x64, seed 0). Build and read back::

    from transel_jax.data.synthetic.tfds_builder import SyntheticSuite
    SyntheticSuite(config="syn_drive_small", data_dir=d, file_format="array_record").download_and_prepare()
    ds = tfds.data_source("synthetic_suite/syn_drive_small", data_dir=d)  # {"train": ..., ...}

Nothing is downloaded: examples come from :func:`transel_jax.data.synthetic.generate`, so the files hold
exactly the bytes of the on-demand sources. ``SyntheticConfig(..., resolution=, seed=, max_examples=)``
makes other variants (e.g. a tiny one for tests).
"""
from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from transel_jax.data.synthetic.datasets import DATASETS, SPLITS, get
from transel_jax.data.synthetic.source import SyntheticSource

_CHUNK = 256


class SyntheticConfig(tfds.core.BuilderConfig):
    """Which dataset, at which resolution and seed; ``max_examples`` caps every split (None: full size)."""

    def __init__(self, *, dataset: str, resolution: int = 64, seed: int = 0, max_examples: int | None = None,
                 **kwargs):
        get(dataset)
        kwargs.setdefault("name", dataset)
        kwargs.setdefault("description", get(dataset).description)
        super().__init__(**kwargs)
        self.dataset, self.resolution, self.seed, self.max_examples = dataset, resolution, seed, max_examples


class SyntheticSuite(tfds.core.GeneratorBasedBuilder):
    """Procedurally generated multi-domain segmentation suite of transel_jax."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [SyntheticConfig(dataset=d.name) for d in DATASETS]

    def _info(self) -> tfds.core.DatasetInfo:
        cfg = self.builder_config
        r = cfg.resolution
        return tfds.core.DatasetInfo(
            builder=self,
            description=f"transel_jax synthetic suite: {get(cfg.dataset).description}",
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Tensor(shape=(r, r, 3), dtype=np.uint8),
                "label": tfds.features.Tensor(shape=(r, r), dtype=np.uint8),
            }),
            supervised_keys=("image", "label"),
            homepage="https://github.com/transel-jax",
            metadata=tfds.core.MetadataDict(class_names=list(get(cfg.dataset).class_names), seed=cfg.seed),
            disable_shuffling=True,  # record i of a split is image i of the on-demand source
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split: str):
        cfg = self.builder_config
        source = SyntheticSource(cfg.dataset, split, seed=cfg.seed, resolution=cfg.resolution)
        n = len(source) if cfg.max_examples is None else min(len(source), cfg.max_examples)
        for start in range(0, n, _CHUNK):
            batch = source.get_batch(np.arange(start, min(n, start + _CHUNK)))
            for k, (image, label) in enumerate(zip(batch["image"], batch["label"])):
                yield start + k, {"image": image, "label": label}
