"""The training state: everything a step reads and writes, and everything a checkpoint must hold."""
from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
    """step: int32 []; params/batch_stats: the model's variable collections (float32 master weights);
    opt_state: the optax state of ``params``; rng: uint32 [2] base key (per-step keys are folded from it)."""

    step: jax.Array
    params: Any
    batch_stats: Any
    opt_state: Any
    rng: jax.Array

    @property
    def variables(self) -> dict:
        """The ``{"params", "batch_stats"}`` dict ``model.apply`` takes."""
        return {"params": self.params, "batch_stats": self.batch_stats}

    def to_dict(self) -> dict:
        """Plain nested dict (the on-disk layout of a checkpoint)."""
        return {"step": self.step, "params": self.params, "batch_stats": self.batch_stats,
                "opt_state": self.opt_state, "rng": self.rng}

    def from_dict(self, tree: dict) -> "TrainState":
        """Replace every field from a dict of the layout of :meth:`to_dict` (structure of ``self`` kept)."""
        return self.replace(**tree)


def create_state(variables: dict, tx: optax.GradientTransformation, rng: jax.Array) -> TrainState:
    """Step-0 state from ``variables = {"params": ..., "batch_stats": ...}`` and optimiser ``tx``."""
    params = variables["params"]
    return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                      batch_stats=variables.get("batch_stats", {}), opt_state=tx.init(params),
                      rng=jnp.asarray(rng, jnp.uint32))
