"""The SPMD training step: one per-device function under ``jax.shard_map`` over the ``"data"`` mesh.

Per device ``d`` with its shard of the global batch (B_d examples, pixel weights w, see losses.py):

    L_d   = n_dev * sum_{p in d} w_p * nll_p / W,    W = psum_d(sum_{p in d} w_p)   (global weight sum)
    grad  = pmean_d(dL_d / dparams) = d/dparams [ sum_p w_p * nll_p / W ]            (the global mean loss)

so the step equals a single-device step on the whole global batch, whatever the void pixels per device.
BatchNorm statistics are synchronized inside the model (built with ``axis_name="data"``: flax BatchNorm
then ``pmean``s the batch moments across devices), and the running averages are ``pmean``ed once more
so replicas can never drift even for a model built without an axis name. The state is replicated and
donated; the SGD update is identical on every device.
"""
from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import Mesh, PartitionSpec as P

from transel_jax.train import distributed, memo
from transel_jax.train.losses import pixel_cross_entropy_sum
from transel_jax.train.state import TrainState

AXIS = distributed.AXIS


def _forward(model, state: TrainState, images, rng, train_backbone: bool):
    """Logits and updated batch_stats; BN in train mode only when the backbone trains."""
    rngs = {"dropout": rng}
    if not train_backbone:
        return model.apply(state.variables, images, train=False, rngs=rngs), state.batch_stats
    logits, updates = model.apply(state.variables, images, train=True, mutable=["batch_stats"], rngs=rngs)
    return logits, updates["batch_stats"]


def _per_device_step(state: TrainState, batch: dict, *, model, tx, class_weights, train_backbone):
    n_dev = lax.psum(1, AXIS)
    images, labels = batch["image"], batch["label"]
    rng = jax.random.fold_in(jax.random.fold_in(state.rng, state.step), lax.axis_index(AXIS))

    def loss_fn(params):
        logits, new_stats = _forward(model, state.replace(params=params), images, rng, train_backbone)
        total, weight_sum = pixel_cross_entropy_sum(logits, labels, class_weights)
        global_weight = jnp.maximum(lax.psum(lax.stop_gradient(weight_sum), AXIS), 1e-12)
        return n_dev * total / global_weight, new_stats

    (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    grads = lax.pmean(grads, AXIS)
    new_stats = lax.pmean(new_stats, AXIS)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    new_state = state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                              batch_stats=new_stats, opt_state=opt_state)
    metrics = {"loss": lax.pmean(loss, AXIS), "grad_norm": optax.tree.norm(grads)}
    return new_state, metrics


def make_train_step(model, tx: optax.GradientTransformation, mesh: Mesh, *, global_batch_size: int,
                    class_weights=None, freeze_backbone: bool = False) -> Callable:
    """Compiled ``step(state, batch) -> (state, metrics)`` over every device of ``mesh``.

    Args:
      model: a flax module following the models interface (``apply(variables, images, train=...,
        mutable=["batch_stats"])``); build it with ``axis_name="data"`` for synchronized BatchNorm.
      tx: the optimiser (:func:`transel_jax.train.optim.make_optimizer`).
      mesh: 1-d mesh with axis ``"data"`` (:func:`transel_jax.train.distributed.make_mesh`).
      global_batch_size: examples per step over all devices; must divide by the device count (checked
        here, before anything compiles).
      class_weights: optional float [K] loss weight per class channel.
      freeze_backbone: run the model in inference mode (BN uses its running statistics) and train only
        the head; pair with ``make_optimizer(..., freeze_backbone=True)``.

    The returned step takes a replicated :class:`TrainState` (donated) and a global batch
    ``{"image": float [B, H, W, 3], "label": int [B, H, W]}`` sharded on "data" (see
    :func:`transel_jax.train.distributed.shard_batch`); metrics are replicated scalars "loss" (global
    mean pixel cross-entropy before the update) and "grad_norm".
    """
    distributed.check_batch_divides(global_batch_size, mesh)
    if class_weights is not None:
        weights = np.asarray(class_weights, np.float32)
        if weights.ndim != 1:
            raise ValueError(f"class_weights: expected a 1-d array [K], got shape {weights.shape}")
        class_weights = tuple(float(w) for w in weights)
    compiled = memo.call(_jitted_step, model, tx, mesh, class_weights, not freeze_backbone)

    def step(state: TrainState, batch: dict):
        got = batch["image"].shape[0]
        if got != global_batch_size:
            raise ValueError(f"batch['image']: expected a global batch of {global_batch_size} examples, "
                             f"got {got}")
        return compiled(state, batch)

    return step


@functools.lru_cache(maxsize=64)
def _jitted_step(model, tx, mesh: Mesh, class_weights: tuple | None, train_backbone: bool) -> Callable:
    """The jitted SPMD step, one per (model, optimiser, mesh, weights, mode).

    Flax modules compare by value and the optimisers of equal hyper-parameters are the same object
    (:func:`transel_jax.train.optim.make_optimizer` is memoised), so every model of one architecture and
    class count trained with one recipe shares this function and jax traces and compiles it once.
    """
    weights = None if class_weights is None else jnp.asarray(class_weights, jnp.float32)
    per_device = functools.partial(_per_device_step, model=model, tx=tx, class_weights=weights,
                                   train_backbone=train_backbone)
    # check_vma=False gives pmap semantics: gradients w.r.t. the replicated params stay per-device until
    # the explicit pmean (with vma checking on, jax would psum them implicitly in the transpose).
    sharded = jax.shard_map(per_device, mesh=mesh, in_specs=(P(), P(AXIS)), out_specs=(P(), P()),
                            check_vma=False)
    return jax.jit(sharded, donate_argnums=0)

