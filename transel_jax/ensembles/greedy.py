"""Greedy forward selection of an ensemble, for pools too large to enumerate C(N, S).

Start from the empty ensemble; at each of S steps add the source whose inclusion gives the best
ensemble score (scoring all N - k extensions of the current k members in one batched call). For a
metric that decomposes over members (MS-LEEP, BASE) this returns the exact optimum; for the others it
is the usual greedy approximation. Cost: S batched calls over at most N ensembles each, instead of
C(N, S).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from transel_jax import checks
from transel_jax.ensembles.scorer import ENSEMBLE_METRICS, score_ensembles
from transel_jax.ensembles.source import Checked, as_source


@dataclasses.dataclass(frozen=True)
class GreedyResult:
    """members: int32 [S] in the order they were added; scores: float64 [S], the ensemble's score after
    each addition."""

    members: np.ndarray
    scores: np.ndarray


def greedy_select(eep, labels, size: int = 3, *, metric: str = "soft_iou_eep", candidates=None,
                  base_terms=None, progress: bool = True, **score_kwargs) -> GreedyResult:
    """Greedy forward selection of ``size`` members maximising ``metric``.

    Args:
      eep: float [N, n, C] EEP predictions (an array, an .npy path or a chunked source, as for
        ``score_ensembles``, read chunk by chunk); labels: int [n] class indices 0..C-1.
      size: number of members S (1 <= S <= number of candidates).
      metric: one of ENSEMBLE_METRICS.
      candidates: optional int [K] subset of source indices to choose from (default: all N).
      base_terms, score_kwargs: passed to ``score_ensembles``.
    """
    checks.check_choice(metric, "metric", ENSEMBLE_METRICS)
    eep = as_source(eep, "eep")
    if len(eep.shape) != 3:
        raise ValueError(f"eep: expected a 3-d array [N, n, C], got shape {tuple(eep.shape)}")
    num_sources = eep.shape[0]
    if candidates is None:
        pool = np.arange(num_sources)
    else:
        pool = np.asarray(candidates)
        if pool.ndim != 1 or pool.size == 0:
            raise ValueError(f"candidates: expected a non-empty 1-d list of source indices, got shape {pool.shape}")
        pool = np.unique(pool)
    checks.check_labels(pool, "candidates", 0, num_sources - 1)
    checks.check_positive_int(size, "size")
    if size > pool.size:
        raise ValueError(f"size: expected S <= {pool.size} candidates, got S = {size}")
    chosen: list[int] = []
    history = []
    for _ in range(size):
        rest = pool[~np.isin(pool, chosen)]
        extended = np.concatenate([np.tile(chosen, (rest.size, 1)), rest[:, None]], axis=1).astype(np.int32)
        result = score_ensembles(eep, labels, ensembles=extended, metrics=(metric,), base_terms=base_terms,
                                 progress=progress, **score_kwargs)
        eep = eep if isinstance(eep, Checked) else Checked(eep)  # round 1 read (and checked) every pixel
        best = int(np.argmax(result.scores[metric]))
        chosen.append(int(rest[best]))
        history.append(float(result.scores[metric][best]))
    return GreedyResult(members=np.asarray(chosen, np.int32), scores=np.asarray(history))
