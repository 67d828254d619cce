"""The single-model metric suite of the PARC comparison (papers/003), scored for every source of a pool.

Given each source's softmax at the sampled target pixels and its features at a feature subset of them:
LEEP and NCE from the probabilities; LogME, H-Score, GBC, PARC, shrinkage H-Score, TransRate and N-LEEP
(seed 0; N-LEEP keeps 80% of the variance of the already reduced features) on the features PCA-reduced to a
common ``pca_dims`` (003 Sec. 4: PCA first makes the feature metrics comparable across architectures and
cheap);
the depth-and-size heuristic (003 eq. 4); and the +depth calibration (003 eq. 6) of each of them. Higher
is better for every metric. Used by ``transel run`` (stage ``scoring``) and ``transel select``.
"""
from __future__ import annotations

import numpy as np

from transel_jax.metrics import features as fm
from transel_jax.metrics.eep import leep, nce

PROBABILITY = ("leep", "nce")
FEATURE = ("logme", "h_score", "gbc", "parc", "shrinkage_h_score", "transrate", "nleep")
SINGLE = PROBABILITY + FEATURE + ("heuristic",) + tuple(f"{m}+depth" for m in PROBABILITY + FEATURE)


def single_scores(probs, labels, feats, feature_labels, num_classes: int, *, depth, source_size,
                  target_size: int, pca_dims: int) -> dict[str, np.ndarray]:
    """{metric: float64 [N]} for N sources (module docstring).

    Args:
      probs: N arrays [n, Z_s] (source softmax at the sampled pixels); labels: int [n] in 0..C-1.
      feats: N arrays [f, D_s] (source features at the feature subset), or None for a source without
        features (its feature metrics are NaN); feature_labels: int [f].
      depth, source_size: [N] layers with weights and source training images, or None when unknown for
        some source (then the heuristic and the +depth metrics are left out); target_size: images.
    """
    y, yf = labels, feature_labels
    out = {"leep": [float(leep(p, y, num_classes)) for p in probs],
           "nce": [float(nce(p, y, num_classes)) for p in probs]}
    reduced = [None if f is None else np.asarray(fm.pca_reduce(f, pca_dims)) for f in feats]
    fns = {"logme": fm.logme, "h_score": fm.h_score, "gbc": fm.gbc, "parc": fm.parc,
           "shrinkage_h_score": fm.shrinkage_h_score, "transrate": fm.transrate,
           "nleep": lambda z, y, c: fm.nleep(z, y, c, seed=0)}
    for name in FEATURE:
        out[name] = [float("nan") if z is None else float(fns[name](z, yf, num_classes)) for z in reduced]
    out = {k: np.asarray(v, np.float64) for k, v in out.items()}
    if depth is None or source_size is None:
        return out
    out["heuristic"] = np.asarray(fm.heuristic_score(depth, source_size, target_size), np.float64)
    for m in PROBABILITY + FEATURE:
        if np.all(np.isfinite(out[m])):
            out[f"{m}+depth"] = np.asarray(fm.depth_calibrate(out[m], depth), np.float64)
    return out
