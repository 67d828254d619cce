"""The linear segmentation head (papers/002 App. A.2)."""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


class SegmentationHead(nn.Module):
    """Per-pixel linear classifier: features [B, h, w, D] -> logits [B, h, w, num_classes].

    ``logits = feats @ W + b`` (a 1x1 conv with bias): ``(D + 1) * num_classes`` parameters, no BatchNorm.
    Logit channel ``c`` scores dataset label ``c + 1`` (label 0 = void has no channel).
    """

    num_classes: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, feats: jax.Array) -> jax.Array:
        return nn.Conv(self.num_classes, (1, 1), use_bias=True, dtype=self.dtype, name="classifier")(feats)
