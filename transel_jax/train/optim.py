"""The optimiser: SGD with momentum and decoupled-from-loss L2 weight decay, optional frozen backbone.

``update = -lr(step) * momentum_trace(grad + weight_decay * param)`` (optax ``add_decayed_weights`` then
``sgd``); weight decay applies to kernels (params with ndim > 1) only, not to biases or BatchNorm scales.
With ``freeze_backbone`` the ``params["backbone"]`` subtree gets zero updates and no optimiser state.
"""
from __future__ import annotations

import functools

import jax
import optax

from transel_jax.train.schedules import Schedule


def decay_mask(params):
    """True for the leaves weight decay applies to: kernels, i.e. arrays with ndim > 1."""
    return jax.tree.map(lambda p: p.ndim > 1, params)


def trainable_labels(params, freeze_backbone: bool):
    """'frozen' for every leaf under params['backbone'] when ``freeze_backbone``, else 'trainable'."""
    def label(path, _):
        top = path[0].key if path and hasattr(path[0], "key") else None
        return "frozen" if freeze_backbone and top == "backbone" else "trainable"
    return jax.tree_util.tree_map_with_path(label, params)


@functools.lru_cache(maxsize=256, typed=True)
def make_optimizer(schedule: Schedule, *, momentum: float = 0.9, weight_decay: float = 0.0,
                   freeze_backbone: bool = False) -> optax.GradientTransformation:
    """SGD(momentum) + weight decay on kernels; the backbone frozen when asked (module docstring).

    Memoised: the same ``schedule`` (see :func:`~transel_jax.train.schedules.make_schedule`) and equal
    settings return the same transformation, which lets equal-recipe runs share one compiled step.
    """
    if weight_decay < 0:
        raise ValueError(f"weight_decay: expected >= 0, got {weight_decay}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum: expected a value in [0, 1), got {momentum}")
    sgd = optax.chain(
        optax.add_decayed_weights(weight_decay, mask=decay_mask),
        optax.sgd(schedule, momentum=momentum or None),
    )
    if not freeze_backbone:
        return sgd
    return optax.multi_transform({"trainable": sgd, "frozen": optax.set_to_zero()},
                                 lambda params: trainable_labels(params, True))
