"""Model initialisation compiled once per architecture, not once per model.

``init_model(model, size, rng)`` equals ``model.init(rng, zeros [1, *size, 3], train=False)`` (as host
arrays). Compiling an init is slow on a CPU (a threefry hash per parameter: seconds for hrnetv2_tiny), so
the compiled init is memoised on the model (flax modules compare by value), and for a
:class:`~transel_jax.models.segmenter.Segmenter` it is split in two: the backbone's init, which does not
depend on the class count and is compiled once per (backbone, size), and the head's, a small compile per
class count. The split gives bit-identical variables: flax derives a submodule's parameter keys from the
root key and the submodule's path only, and both parts keep their paths ``backbone`` and ``head``.

The init graph runs once per model, so on CPU it is compiled without XLA backend optimisation (for
hrnetv2_tiny that cut its compile from about 34 s to 4 s on the 2-core dev machine).

``transplant_backbone(source, target)`` (fine-tuning's initialisation) returns freshly initialised target
variables with ``params["backbone"]`` and ``batch_stats["backbone"]`` replaced by the source's (copied
exactly) and the target's own new head (nothing of the source head survives: its shape is the source's
class count).
"""
from __future__ import annotations

import functools
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from transel_jax.models.heads import SegmentationHead
from transel_jax.models.segmenter import Segmenter
from transel_jax.train import memo


class _BackboneAtItsPath(nn.Module):
    """The segmenter's backbone as the child ``backbone`` of the root, as inside :class:`Segmenter`."""

    backbone: nn.Module
    dtype: object

    @nn.compact
    def __call__(self, images):
        return self.backbone(images.astype(self.dtype), train=False)


class _HeadAtItsPath(nn.Module):
    """The segmenter's head as the child ``head`` of the root, as inside :class:`Segmenter`."""

    num_classes: int
    dtype: object

    @nn.compact
    def __call__(self, feats):
        return SegmentationHead(self.num_classes, self.dtype, name="head")(feats)


def init_model(model, size: tuple[int, int], rng) -> dict:
    """``model.init(rng, zeros [1, *size, 3], train=False)`` as host arrays (module docstring)."""
    rng = jnp.asarray(rng)
    size = tuple(int(s) for s in size)
    key_spec = (rng.shape, str(rng.dtype))
    if type(model) is not Segmenter:
        return jax.device_get(memo.call(_compiled_init, model, size, *key_spec)(rng))
    init_backbone, feats = memo.call(_compiled_backbone_init, model.backbone, model.dtype, size, *key_spec)
    init_head = memo.call(_compiled_head_init, model.num_classes, model.dtype, feats, *key_spec)
    backbone, head = jax.device_get((init_backbone(rng), init_head(rng)))
    out = {"params": {**backbone["params"], **head["params"]}}
    out.update({col: tree for col, tree in backbone.items() if col != "params"})
    return out


def _compile(fn: Callable, arg: jax.ShapeDtypeStruct, key_shape: tuple, key_dtype: str):
    """Executable of ``key -> fn(key, zeros like arg)``, compiled without backend optimisation on CPU."""
    key = jax.ShapeDtypeStruct(key_shape, jnp.dtype(key_dtype))
    lowered = jax.jit(lambda k: fn(k, jnp.zeros(arg.shape, arg.dtype))).lower(key)
    options = {"xla_backend_optimization_level": 0} if jax.default_backend() == "cpu" else None
    return lowered.compile(compiler_options=options)


@functools.lru_cache(maxsize=32)
def _compiled_init(model, size: tuple[int, int], key_shape: tuple, key_dtype: str):
    images = jax.ShapeDtypeStruct((1, *size, 3), jnp.float32)
    return _compile(lambda k, x: model.init(k, x, train=False), images, key_shape, key_dtype)


@functools.lru_cache(maxsize=32)
def _compiled_backbone_init(backbone, dtype, size: tuple[int, int], key_shape: tuple, key_dtype: str):
    """(executable key -> backbone variables, (feature shape [1, h, w, D], dtype name))."""
    images = jax.ShapeDtypeStruct((1, *size, 3), jnp.float32)
    module = _BackboneAtItsPath(backbone, dtype)
    compiled = _compile(module.init, images, key_shape, key_dtype)
    variables = jax.eval_shape(module.init, jax.ShapeDtypeStruct(key_shape, jnp.dtype(key_dtype)), images)
    feats = jax.eval_shape(module.apply, variables, images)
    return compiled, (tuple(feats.shape), str(feats.dtype))


@functools.lru_cache(maxsize=64)
def _compiled_head_init(num_classes: int, dtype, feats: tuple, key_shape: tuple, key_dtype: str):
    module = _HeadAtItsPath(num_classes, dtype)
    return _compile(module.init, jax.ShapeDtypeStruct(*feats), key_shape, key_dtype)


def _backbone_signature(variables: dict) -> dict:
    return {col: jax.tree.map(lambda a: (tuple(np.shape(a)), str(np.asarray(a).dtype)),
                              variables.get(col, {}).get("backbone", {}))
            for col in ("params", "batch_stats")}


def transplant_backbone(source_variables: dict, target_variables: dict, *, source_name: str = "source",
                        target_name: str = "target") -> dict:
    """Target variables whose backbone (params and batch_stats) is an exact copy of the source's.

    Both must follow the models interface ({"params": {"backbone", "head"}, "batch_stats": {"backbone"}})
    with identically shaped backbones; otherwise ValueError naming both models.
    """
    for name, v in (("source_variables", source_variables), ("target_variables", target_variables)):
        if "backbone" not in v.get("params", {}):
            raise ValueError(f"{name}: expected {{'params': {{'backbone': ...}}}}, got params keys "
                             f"{sorted(v.get('params', {}))}")
    src, tgt = _backbone_signature(source_variables), _backbone_signature(target_variables)
    if src != tgt:
        raise ValueError(f"source_variables: backbone of {source_name!r} does not match the backbone of "
                         f"{target_name!r} (different architecture or width)")
    out = {col: dict(target_variables.get(col, {})) for col in target_variables}
    for col in ("params", "batch_stats"):
        if "backbone" in source_variables.get(col, {}):
            out.setdefault(col, {})["backbone"] = jax.tree.map(np.array, source_variables[col]["backbone"])
    return out
