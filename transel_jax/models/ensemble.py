"""The ensemble head of papers/000 Sec. 5.1 and frozen member evaluation.

Each of ``S`` fine-tuned members gives target-class logits ``z_s`` [..., C]. The head re-weights every
member's class scores and averages the members' probabilities:

    p(c | x) = (1/S) * sum_s softmax(w[s] * z_s + b[s])[c],    w, b: [S, C]

so it has ``2 * S * C`` parameters (144 to 2700 in the paper). With ``w = 1`` and ``b = 0`` (the
initialisation) it is exactly the plain average of the members' probabilities. Only the head trains: the
members run in eval mode behind ``jax.lax.stop_gradient`` (:func:`frozen_member_logits`).

``EnsembleSegmenter(members, num_classes)`` is frozen members + head as one segmenter: images [B, H, W, 3]
-> ensemble log-probabilities [B, H, W, K] (``log p`` of :class:`EnsembleHead`), so ``argmax`` is the
ensemble's prediction and :func:`transel_jax.train.evaluate.evaluate` applies unchanged. Members always run
in inference mode. Variables: ``{"params": {"members_0": ..., ..., "head": {"weight", "bias"}},
"batch_stats": {"members_0": ..., ...}}``, assembled by :func:`ensemble_variables`.
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from transel_jax.checks import check_positive_int


class EnsembleHead(nn.Module):
    """Member logits [..., S, C] -> ensemble probabilities [..., C] (or log-probabilities with ``log``).

    Parameters ``weight`` (init 1) and ``bias`` (init 0), both float32 [S, C]. Computed in float32 in log
    space: ``log p = logsumexp_s(log_softmax(w[s] * z_s + b[s])) - log S``, so ``log=True`` gives a finite
    log-probability for the cross-entropy loss even where a probability underflows.
    """

    num_members: int
    num_classes: int

    def __post_init__(self):
        check_positive_int(self.num_members, "num_members")
        check_positive_int(self.num_classes, "num_classes", minimum=2)
        super().__post_init__()

    @nn.compact
    def __call__(self, member_logits: jax.Array, *, log: bool = False) -> jax.Array:
        shape = (self.num_members, self.num_classes)
        if member_logits.ndim < 2 or tuple(member_logits.shape[-2:]) != shape:
            raise ValueError(
                f"member_logits: expected shape [..., S={shape[0]}, C={shape[1]}], "
                f"got {tuple(member_logits.shape)}"
            )
        weight = self.param("weight", nn.initializers.ones, shape, jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, shape, jnp.float32)
        z = member_logits.astype(jnp.float32) * weight + bias
        log_p = jax.nn.logsumexp(jax.nn.log_softmax(z, axis=-1), axis=-2) - jnp.log(self.num_members)
        return log_p if log else jnp.exp(log_p)


def frozen_member_logits(models: Sequence[nn.Module], variables: Sequence, images: jax.Array) -> jax.Array:
    """Logits of frozen members, stacked for :class:`EnsembleHead`: images [B, H, W, 3] -> [B, H, W, S, C].

    Every member runs in eval mode (running BatchNorm statistics) and its output passes through
    ``jax.lax.stop_gradient``, so no gradient reaches the members' variables. All members must share the
    target label space (same ``num_classes``).
    """
    if len(models) != len(variables) or not models:
        raise ValueError(
            f"models, variables: expected equally long non-empty sequences, got {len(models)} and {len(variables)}"
        )
    sizes = {m.num_classes for m in models}
    if len(sizes) != 1:
        raise ValueError(f"models: expected members with one shared num_classes, got {sorted(sizes)}")
    logits = [jax.lax.stop_gradient(m.apply(v, images, train=False)) for m, v in zip(models, variables)]
    return jnp.stack(logits, axis=-2)


class EnsembleSegmenter(nn.Module):
    members: Sequence[nn.Module]
    num_classes: int

    @nn.compact
    def __call__(self, images, train: bool = False):
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
