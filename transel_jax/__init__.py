"""transel_jax: choose which source segmentation models, alone or as an ensemble, to fine-tune.

The notebook-level API is re-exported here lazily (importing the package does not import jax):

>>> import transel_jax as tj
>>> result = tj.score_ensembles(eep, labels, size=3, metrics=("e_leep", "soft_iou_eep"))  # doctest: +SKIP
>>> sel = tj.select("my_pool/", "my_target/", size=3, out="sel")    # doctest: +SKIP
>>> sel.top(5); report = sel.finetune(1)                            # doctest: +SKIP
>>> tj.load_ensemble("sel/ensemble").predict_labels(images_uint8)   # doctest: +SKIP
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "score_ensembles": "transel_jax.ensembles",
    "greedy_select": "transel_jax.ensembles",
    "top_k": "transel_jax.ensembles",
    "eep": "transel_jax.metrics",
    "select": "transel_jax.select",
    "load_pool": "transel_jax.select",
    "load_ensemble": "transel_jax.transfer.ensemble_export",
    "load_folder": "transel_jax.data.folder",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'transel_jax' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
