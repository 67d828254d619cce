"""Named model variants: ``build`` a segmenter, ``describe`` its size without allocating it.

==============  ===================  =====================================================
name            backbone             notes
==============  ===================  =====================================================
hrnetv2_w18     HRNetV2, C = 18      270 feature channels
hrnetv2_w28     HRNetV2, C = 28      about 23M parameters (the papers' source backbone)
hrnetv2_w48     HRNetV2, C = 48      about 65M parameters (the B1L baseline), 720 channels
resnet23m       dilated ResNet-50    trimmed to about 23M parameters (papers/000 Sec. 3.1)
hrnetv2_tiny    HRNetV2, C = 4       CPU tests/demos: 1 module per stage, 1 block/branch
hrnetv2_tiny_l  HRNetV2, C = 10      hrnetv2_tiny widened to 3x the mean size of the tiny
                                     models: the demo's B1L (one model, an ensemble's capacity)
resnet_tiny     dilated ResNet       CPU tests/demos: narrow, one unit per stage
==============  ===================  =====================================================
"""
from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from transel_jax.checks import check_positive_int
from transel_jax.models.hrnet import HRNetV2
from transel_jax.models.resnet import DilatedResNet
from transel_jax.models.segmenter import Segmenter

# name -> (backbone class, constructor arguments overriding the class defaults)
_VARIANTS: dict[str, tuple[type[nn.Module], dict[str, Any]]] = {
    "hrnetv2_w18": (HRNetV2, dict(width=18)),
    "hrnetv2_w28": (HRNetV2, dict(width=28)),
    "hrnetv2_w48": (HRNetV2, dict(width=48)),
    "resnet23m": (DilatedResNet, {}),
    "hrnetv2_tiny": (HRNetV2, dict(width=4, stem_width=16, stage1_planes=8, stage1_blocks=1,
                                   modules_per_stage=(1, 1, 1), blocks_per_branch=1)),
    "hrnetv2_tiny_l": (HRNetV2, dict(width=10, stem_width=16, stage1_planes=8, stage1_blocks=1,
                                     modules_per_stage=(1, 1, 1), blocks_per_branch=1)),
    "resnet_tiny": (DilatedResNet, dict(stem_width=16, planes=(8, 16, 32, 64), units=(1, 1, 1, 2),
                                        atrous_features=32, atrous_rates=(1, 2, 3, 4, 6))),
}
_NOT_OVERRIDABLE = ("dtype", "axis_name", "parent", "name")


def names() -> list[str]:
    """The registered model names."""
    return list(_VARIANTS)


def build(name: str, num_classes: int, *, dtype=jnp.float32, axis_name: str | None = None,
          **overrides) -> Segmenter:
    """Build the segmenter ``name`` with a ``num_classes``-way linear head (label 0 = void excluded).

    Args:
      name: one of :func:`names`.
      num_classes: number of real classes C >= 2; logit channel c scores label c + 1.
      dtype: compute dtype (``jnp.float32`` or ``jnp.bfloat16``); parameters stay float32.
      axis_name: mapped axis over which BatchNorm averages batch statistics (e.g. ``"data"`` inside
        ``jax.shard_map``); ``None`` for per-device statistics.
      **overrides: backbone constructor fields, e.g. ``width=8`` or ``modules_per_stage=(1, 1, 1)``.

    Returns:
      an unbound :class:`Segmenter`; ``model.init(rng, images, train=False)`` creates its variables.
    """
    backbone_cls, defaults = _variant(name)
    check_positive_int(num_classes, "num_classes", minimum=2)
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        raise TypeError(f"dtype: expected a floating dtype such as jnp.float32 or jnp.bfloat16, got {dtype!r}")
    if axis_name is not None and not isinstance(axis_name, str):
        raise TypeError(f"axis_name: expected a str or None, got {axis_name!r}")
    allowed = [f.name for f in dataclasses.fields(backbone_cls) if f.name not in _NOT_OVERRIDABLE]
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise TypeError(f"overrides: unknown field(s) {unknown} for {name}; expected some of {allowed}")
    backbone = backbone_cls(**{**defaults, **overrides}, dtype=dtype, axis_name=axis_name)
    return Segmenter(backbone=backbone, num_classes=num_classes, dtype=dtype)


def describe(name: str, num_classes: int, input_size: tuple[int, int] = (512, 512), **overrides) -> dict:
    """Size and output shapes of a model, computed abstractly with ``jax.eval_shape`` (nothing allocated).

    Returns a dict with ``name``, ``params`` (all trainable parameters), ``backbone_params``, ``head_params``
    (= (D + 1) * num_classes), ``depth`` (layers with weights: conv and dense kernels; BatchNorm layers
    are not counted), ``feature_channels`` (D), ``output_stride``, and the ``logits_shape`` and
    ``features_shape`` for one image of ``input_size`` = (H, W).
    """
    if len(input_size) != 2:
        raise ValueError(f"input_size: expected (H, W), got {input_size!r}")
    height, width = (check_positive_int(s, "input_size") for s in input_size)
    model = build(name, num_classes, **overrides)
    images = jax.ShapeDtypeStruct((1, height, width, 3), jnp.float32)
    (logits, feats), variables = jax.eval_shape(
        lambda x: model.init_with_output(jax.random.PRNGKey(0), x, train=False, return_features=True), images
    )
    params = variables["params"]
    return {
        "name": name,
        "params": count_params(params),
        "backbone_params": count_params(params["backbone"]),
        "head_params": count_params(params["head"]),
        "depth": count_layers(params),
        "feature_channels": int(feats.shape[-1]),
        "output_stride": model.backbone.output_stride,
        "logits_shape": tuple(logits.shape),
        "features_shape": tuple(feats.shape),
    }


def count_params(tree) -> int:
    """Total number of elements over the leaves of a pytree of arrays or ``ShapeDtypeStruct``s."""
    return int(sum(np.prod(leaf.shape, dtype=np.int64) for leaf in jax.tree_util.tree_leaves(tree)))


def count_layers(params) -> int:
    """Number of layers with weights: leaves named ``kernel`` (conv and dense layers; BatchNorm excluded)."""
    paths = jax.tree_util.tree_flatten_with_path(params)[0]
    return sum(1 for path, _ in paths if getattr(path[-1], "key", None) == "kernel")


def _variant(name: str) -> tuple[type[nn.Module], dict[str, Any]]:
    if name not in _VARIANTS:
        raise ValueError(f"name: unknown model {name!r}; known models: {', '.join(names())}")
    return _VARIANTS[name]
