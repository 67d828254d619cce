"""The depth-and-size heuristic (003 eq. 4) and the +depth calibration of any score (003 eq. 6)."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from transel_jax import checks
from transel_jax.metrics._feature_inputs import TINY, check_float32_range, scale_by_max_abs


def _check_vector(x, name: str, n: int | None = None, minimum: float | None = None, positive: bool = False):
    checks.check_rank(x, name, 1, "[N]")
    checks.check_nonempty(x, name, what="sources")
    if n is not None:
        checks.check_dim(name, "N (number of sources)", np.shape(x)[0], n)
    checks.check_finite(x, name)
    if checks.is_traced(x):
        return
    arr = np.asarray(x)
    if positive and not np.all(arr > 0):
        raise ValueError(f"{name}: expected positive values, got minimum {arr.min():g}")
    if minimum is not None and not np.all(arr >= minimum):
        raise ValueError(f"{name}: expected values >= {minimum:g}, got minimum {arr.min():g}")


def heuristic_score(depth, source_size, target_size) -> jnp.ndarray:
    """heuristic_s = l_s + ln(|D_s| + |D_t|) (003 eq. 4), natural log.

    Args:
      depth: [N] number of layers with weights of each source model (models.describe(...)["depth"]).
      source_size: [N] number of images each source was trained on (> 0).
      target_size: scalar, number of target training images.
    Returns float32 [N]. Jittable.
    """
    _check_vector(depth, "depth", minimum=0)
    _check_vector(source_size, "source_size", n=np.shape(depth)[0], positive=True)
    checks.check_rank(target_size, "target_size", 0, "(scalar)")
    checks.check_finite(target_size, "target_size")
    if not checks.is_traced(target_size) and not float(target_size) >= 0:
        raise ValueError(f"target_size: expected a number >= 0, got {target_size}")
    depth = jnp.asarray(depth, jnp.float32)
    total = jnp.asarray(source_size, jnp.float32) + jnp.asarray(target_size, jnp.float32)
    return depth + jnp.log(total)


def depth_calibrate(scores, depth, max_depth: float | None = None) -> jnp.ndarray:
    """+depth calibration (003 eq. 6): (alpha_s - mu) / sigma + l_s / l_max.

    mu and sigma are the mean and the population standard deviation (ddof=0; the paper does not say)
    of ``scores`` over the N sources (last axis) for one target. If all scores are equal, sigma = 0 and
    the first term is 0 (documented choice) instead of NaN. The first term is invariant to scaling the
    scores, so they are divided by their largest |value| per target first: any finite scores work.

    Args:
      scores: float [..., N], one transferability score per source (any metric; leading axes = targets).
      depth: [N] depth l_s of each source model.
      max_depth: l_max (003 uses 50, the deepest model in its pool); None means max(depth).
    Returns float32 [..., N]. Jittable.
    """
    if np.ndim(scores) < 1 or np.shape(scores)[-1] == 0:
        raise ValueError(f"scores: expected an array [..., N] with N >= 1 sources, got shape {np.shape(scores)}")
    checks.check_finite(scores, "scores")
    _check_vector(depth, "depth", n=np.shape(scores)[-1], minimum=0)
    if max_depth is None:
        max_depth = jnp.max(jnp.asarray(depth, jnp.float32))
    elif not float(max_depth) > 0:
        raise ValueError(f"max_depth: expected a positive number, got {max_depth}")
    check_float32_range(scores, "scores")
    scores, _ = scale_by_max_abs(jnp.asarray(scores, jnp.float32), axis=-1)
    centered = scores - scores.mean(axis=-1, keepdims=True)
    sigma = jnp.sqrt(jnp.mean(centered**2, axis=-1, keepdims=True))
    standardized = jnp.where(sigma > TINY, centered / jnp.maximum(sigma, TINY), 0.0)
    return standardized + jnp.asarray(depth, jnp.float32) / jnp.maximum(max_depth, TINY)


__all__ = ["heuristic_score", "depth_calibrate"]
