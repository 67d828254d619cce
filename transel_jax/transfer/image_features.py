"""Image-level feature vectors: a model's backbone features average-pooled over space.

The domain distance of papers/002 (Eq. 1) compares datasets through such vectors
(:func:`transel_jax.analysis.domain_distance.distance_matrix`).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from transel_jax.data import pipeline


@functools.partial(jax.jit, static_argnames=("model",))
def _pooled(model, variables, images):
    _, feats = model.apply(variables, images, train=False, return_features=True)
    return jnp.mean(feats.astype(jnp.float32), axis=(1, 2))


def image_vectors(model, variables, source, info, *, batch_size: int) -> np.ndarray:
    """float64 [B, D]: mean over space of the backbone features of every image of ``source``.

    Images are normalised with ``info`` (mean/std) and run single scale, ``batch_size`` at a time.
    """
    out = [np.asarray(_pooled(model, variables, b["image"]))[b["mask"]]
           for b in pipeline.eval_batches(source, info, batch_size=batch_size)]
    return np.concatenate(out).astype(np.float64)
