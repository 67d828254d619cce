"""Transferability metrics: pure functions of arrays (no I/O, no training code).

Probability-based (single source): ``eep``, ``leep``, ``nce``; ensembles of EEP predictors:
``ms_leep``, ``e_leep``, ``iou_eep``, ``soft_iou_eep``, ``base``. Feature-based metrics live in their
own modules (hscore incl. shrinkage H-Score, logme, gbc, nleep + gmm, transrate, parc, rdm, probes, pca,
heuristic).
"""
from transel_jax.metrics.eep import EPS, eep, eep_stack, leep, nce
from transel_jax.metrics.features import (
    dds,
    depth_calibrate,
    fit_logistic,
    gbc,
    h_score,
    half_split,
    ledoit_wolf,
    nleep,
    nleep_terms,
    shrinkage_h_score,
    transrate,
    heuristic_score,
    logistic_probe_accuracy,
    logme,
    logme_per_class,
    nn1_loo_accuracy,
    parc,
    parc_vectors,
    pca_reduce,
    rsa,
)
from transel_jax.metrics.ensemble import (
    EnsembleStats,
    base,
    base_terms,
    e_leep,
    ensemble_stats,
    iou_eep,
    ms_leep,
    soft_iou_eep,
)

__all__ = [
    "EPS", "EnsembleStats", "base", "base_terms", "e_leep", "eep", "eep_stack", "ensemble_stats",
    "iou_eep", "leep", "ms_leep", "nce", "soft_iou_eep",
    # feature-based
    "dds", "depth_calibrate", "fit_logistic", "gbc", "h_score", "half_split", "heuristic_score",
    "logistic_probe_accuracy", "logme", "logme_per_class", "nn1_loo_accuracy", "parc", "parc_vectors",
    "pca_reduce", "rsa", "nleep", "nleep_terms", "transrate", "shrinkage_h_score", "ledoit_wolf",
]
