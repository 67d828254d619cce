"""Frozen members + trained ensemble head as one segmenter, for evaluating an ensemble's mIoU.

``EnsembleSegmenter(members, num_classes)`` maps images [B, H, W, 3] to ensemble log-probabilities
[B, H, W, K] (``log p`` of :class:`transel_jax.models.EnsembleHead`), so ``argmax`` is the ensemble's
prediction and :func:`transel_jax.train.evaluate.evaluate` applies unchanged. Members always run in
inference mode. Variables: ``{"params": {"members_0": ..., ..., "head": {"weight", "bias"}},
"batch_stats": {"members_0": ..., ...}}``, assembled by :func:`ensemble_variables`.
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


class EnsembleSegmenter(nn.Module):
    members: Sequence[nn.Module]
    num_classes: int

    @nn.compact
    def __call__(self, images, train: bool = False):
        from transel_jax.models import EnsembleHead

        logits = [member(images, train=False) for member in self.members]  # bound as members_0, members_1, ...
        return EnsembleHead(len(self.members), self.num_classes, name="head")(jnp.stack(logits, axis=-2), log=True)


def ensemble_variables(member_variables: Sequence[dict], head_variables: dict | None, num_classes: int) -> dict:
    """Variables of :class:`EnsembleSegmenter` from the members' and the head's (None: w = 1, b = 0,
    the plain average of the members' probabilities)."""
    num = len(member_variables)
    if head_variables is None:
        head_params = {"weight": jnp.ones((num, num_classes)), "bias": jnp.zeros((num, num_classes))}
    else:
        head_params = head_variables["params"]
    shape = tuple(jnp.shape(head_params["weight"]))
    if shape != (num, num_classes):
        raise ValueError(f"head_variables: expected weight of shape ({num}, {num_classes}), got {shape}")
    params = {f"members_{s}": v["params"] for s, v in enumerate(member_variables)}
    stats = {f"members_{s}": v.get("batch_stats", {}) for s, v in enumerate(member_variables)}
    return {"params": {**params, "head": head_params}, "batch_stats": stats}
