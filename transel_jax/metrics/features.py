"""Feature-based transferability metrics, one import away.

Each is a pure function of arrays (features float [n, D], target class indices int [n] in 0..C-1)
that validates its inputs outside jit and runs a jitted kernel; see each module for the formula.

>>> from transel_jax.metrics import features as fm
>>> z = fm.pca_reduce(feats, 32)                                         # doctest: +SKIP
>>> fm.parc(z, labels, num_classes=20)                                   # doctest: +SKIP
"""
from transel_jax.metrics.gbc import gbc
from transel_jax.metrics.heuristic import depth_calibrate, heuristic_score
from transel_jax.metrics.hscore import h_score, ledoit_wolf, shrinkage_h_score
from transel_jax.metrics.logme import logme, logme_per_class
from transel_jax.metrics.nleep import nleep, nleep_terms
from transel_jax.metrics.parc import dds, parc, parc_vectors, rsa
from transel_jax.metrics.pca import pca_reduce
from transel_jax.metrics.probes import fit_logistic, half_split, logistic_probe_accuracy, nn1_loo_accuracy
from transel_jax.metrics.transrate import transrate

__all__ = [
    "h_score",
    "shrinkage_h_score",
    "ledoit_wolf",
    "nleep",
    "nleep_terms",
    "transrate",
    "logme",
    "logme_per_class",
    "gbc",
    "parc",
    "parc_vectors",
    "rsa",
    "dds",
    "nn1_loo_accuracy",
    "logistic_probe_accuracy",
    "fit_logistic",
    "half_split",
    "pca_reduce",
    "heuristic_score",
    "depth_calibrate",
]
