"""transel_jax: choose which source segmentation models, alone or as an ensemble, to fine-tune.

The notebook-level API is re-exported here lazily (importing the package does not import jax):

>>> import transel_jax as tj
>>> result = tj.score_ensembles(eep, labels, size=3, metrics=("e_leep", "soft_iou_eep"))  # doctest: +SKIP
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "score_ensembles": "transel_jax.ensembles",
    "greedy_select": "transel_jax.ensembles",
    "top_k": "transel_jax.ensembles",
    "eep": "transel_jax.metrics",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'transel_jax' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
