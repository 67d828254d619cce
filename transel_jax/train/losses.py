"""Pixel-wise cross-entropy for segmentation, void ignored.

Labels follow the dataset convention: 0 is void, 1..K are classes, and logit channel ``c`` scores label
``c + 1``. For logits ``z`` [B, H, W, K] and labels ``y`` [B, H, W] the loss is the weighted mean

    L = sum_p w(y_p) * (-log softmax(z_p)[y_p - 1]) / sum_p w(y_p),

over pixels ``p`` with ``y_p > 0``, where ``w(c) = class_weights[c - 1]`` (1 when no weights are given).
Void pixels have weight 0, so they contribute neither to the loss nor to its gradient.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def pixel_weights(labels: jax.Array, class_weights: jax.Array | None = None) -> jax.Array:
    """Per-pixel loss weights float32 [...]: 0 on void (label 0), ``class_weights[label - 1]`` otherwise."""
    valid = labels > 0
    if class_weights is None:
        return valid.astype(jnp.float32)
    index = jnp.clip(labels - 1, 0, class_weights.shape[0] - 1)
    return jnp.where(valid, jnp.asarray(class_weights, jnp.float32)[index], 0.0)


def pixel_cross_entropy_sum(logits: jax.Array, labels: jax.Array,
                            class_weights: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """Weighted sum of pixel cross-entropies and the sum of weights (the mean's denominator).

    Args:
      logits: float [B, H, W, K] (any float dtype; the loss is computed in float32).
      labels: int [B, H, W], 0 = void, 1..K classes.
      class_weights: optional float [K], weight of each class (channel order).

    Returns:
      (total, weight_sum), both float32 scalars; ``total / weight_sum`` is the mean loss ``L`` above.
      They are returned separately so a data-parallel step can divide by the *global* weight sum.
    """
    log_p = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    index = jnp.clip(labels - 1, 0, logits.shape[-1] - 1)
    nll = -jnp.take_along_axis(log_p, index[..., None], axis=-1)[..., 0]
    weights = pixel_weights(labels, class_weights)
    return jnp.sum(weights * nll), jnp.sum(weights)


def pixel_cross_entropy(logits: jax.Array, labels: jax.Array,
                        class_weights: jax.Array | None = None) -> jax.Array:
    """Mean loss ``L`` (module docstring) of one batch; 0 when every pixel is void."""
    total, weight_sum = pixel_cross_entropy_sum(logits, labels, class_weights)
    return total / jnp.maximum(weight_sum, 1e-12)
