"""Feature-based transferability metrics, one import away.

Each is a pure function of arrays (features float [n, D], target class indices int [n] in 0..C-1)
that validates its inputs outside jit and runs a jitted kernel; see each module for the formula.

>>> from transel_jax.metrics import features as fm
>>> z = fm.pca_reduce(feats, 32)                                         # doctest: +SKIP
>>> fm.parc(z, labels, num_classes=20)                                   # doctest: +SKIP
>>> fm.nleep(z, labels, 20, seed=0); fm.transrate(z, labels, 20)         # doctest: +SKIP
>>> fm.shrinkage_h_score(z, labels, 20)                                  # doctest: +SKIP

Issue 16 additions (module docstrings give the formulas and every documented choice):
  nleep              Li et al. 2021: PCA to >= 80% variance, seeded EM Gaussian mixture (K = 5 C,
                     diagonal by default), LEEP of the mixture posteriors; <= 0, higher is better.
  transrate          Huang et al. 2022: R(Z) - sum_c n_c/n R(Z_c), R = 1/2 logdet(I + D/(n eps^2) Z^T Z) on
                     centred features scaled to unit mean variance, eps = 0.01.
  shrinkage_h_score  Ibrahim et al. 2022: tr(Sigma_LW^-1 (1 - alpha) cov(E[f|y])), Ledoit-Wolf target
                     mu I, intensity alpha = min(b^2, delta^2) / delta^2.
OSBORN (K B et al., ICCV 2023) is not implemented: its equations are not in the available text.
Every metric rescales its input by a power of two inside the kernel, so finite features of any
magnitude give finite scores (issue 12 item 9); see _feature_inputs.scale_by_max_abs.
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
