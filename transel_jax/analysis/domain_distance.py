"""Domain distance between datasets from pooled backbone features (Factors of Influence, Eq. 1, Tab. 10).

    D(T | S) = (1/|T|) sum_t min_s d(f_t, f_s),   d = Euclidean distance

f are image vectors: backbone feature maps average-pooled over space (``pool_features``). The paper
samples 1000 images per dataset and uses the same images whether a dataset acts as target or source.
The min is one of four assignment methods compared in Tab. 10 (``ASSIGNMENTS``):
  "emd":              one-to-one assignment minimising the total distance (Hungarian algorithm,
                      scipy.optimize.linear_sum_assignment; with unequal sizes min(|T|, |S|) pairs are
                      matched), averaged over matched pairs - overlap of the two distributions;
  "target_to_source": each target image to its closest source image - Eq. (1), *inclusion* of the target
                      in the source (the variant that correlates best with transfer gains);
  "source_to_target": each source image to its closest target image;
  "symmetric":        the mean of the previous two.
The measure is asymmetric: D(A | B) != D(B | A) in general.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import scipy.optimize
import scipy.spatial.distance

from transel_jax import checks

ASSIGNMENTS = ("emd", "target_to_source", "source_to_target", "symmetric")


def pool_features(feature_maps) -> np.ndarray:
    """Spatial average pooling: [B, h, w, D] -> float64 [B, D]."""
    f = np.asarray(feature_maps)
    checks.check_rank(f, "feature_maps", 4, "[B, h, w, D]")
    return f.mean(axis=(1, 2), dtype=np.float64)


def _check_pair(target, source) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(target, np.float64)
    s = np.asarray(source, np.float64)
    checks.check_rank(t, "target", 2, "[|T|, D]")
    checks.check_rank(s, "source", 2, "[|S|, D]")
    checks.check_nonempty(t, "target", what="images")
    checks.check_nonempty(s, "source", what="images")
    checks.check_dim("source", "feature size D (matching target)", s.shape[1], t.shape[1])
    checks.check_finite(t, "target")
    checks.check_finite(s, "source")
    return t, s


def domain_distance(target, source, assignment: str = "target_to_source") -> float:
    """D(T | S) between image vectors target [|T|, D] and source [|S|, D] (see module doc)."""
    checks.check_choice(assignment, "assignment", ASSIGNMENTS)
    t, s = _check_pair(target, source)
    d = scipy.spatial.distance.cdist(t, s)  # [|T|, |S|] Euclidean
    if assignment == "emd":
        rows, cols = scipy.optimize.linear_sum_assignment(d)
        return float(d[rows, cols].mean())
    t2s = float(d.min(axis=1).mean())
    s2t = float(d.min(axis=0).mean())
    return {"target_to_source": t2s, "source_to_target": s2t, "symmetric": 0.5 * (t2s + s2t)}[assignment]


def distance_matrix(features: Mapping[str, np.ndarray], targets, sources,
                    assignment: str = "target_to_source") -> np.ndarray:
    """float64 [len(targets), len(sources)] of D(T | S) with ``features[name]`` the [k, D] image vectors."""
    missing = [n for n in list(targets) + list(sources) if n not in features]
    if missing:
        raise ValueError(f"features: expected image vectors for every dataset, missing {missing}")
    return np.array([[domain_distance(features[t], features[s], assignment) for s in sources] for t in targets])
