"""Fast random variables for a model, drawn with numpy instead of compiling flax's initialisers.

``jax.jit(model.init)`` compiles a threefry hash for every parameter and every level of its module path;
on a CPU that takes seconds per hundred parameter arrays (minutes for HRNetV2-W28/W48). Where the values
do not matter (timing, shape checks, tests) or are replaced by a checkpoint anyway, this gives variables of
exactly the same structure, shapes and dtypes (from ``jax.eval_shape(model.init)``) at no compile cost:

* ``kernel`` leaves ~ N(0, 1/fan_in), fan_in = prod(shape[:-1]) (the variance of flax's default
  ``lecun_normal``, untruncated);
* BatchNorm ``scale`` and running ``var`` = 1; every other leaf (biases, running means) = 0.

Same ``seed``, same values. ``model.init`` remains the initialisation to train from scratch with.
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from transel_jax.checks import check_positive_int

_ONES = ("scale", "var")


def random_variables(model: nn.Module, image_shape: Sequence[int] = (1, 64, 64, 3), *, seed: int = 0) -> dict:
    """Variables for ``model`` (e.g. a :class:`~transel_jax.models.Segmenter`) traced at ``image_shape``.

    Args:
      model: an unbound flax module whose ``init(rng, images, train=False)`` takes float32 images.
      image_shape: [B, H, W, 3] used only to trace the model; parameter shapes do not depend on it.
      seed: numpy seed of the draw.

    Returns:
      a pytree equal in structure, shapes and dtypes to ``model.init(rng, images, train=False)``.
    """
    if len(image_shape) != 4:
        raise ValueError(f"image_shape: expected [B, H, W, 3], got {tuple(image_shape)}")
    check_positive_int(seed, "seed", minimum=0)
    images = jax.ShapeDtypeStruct(tuple(int(s) for s in image_shape), jnp.float32)
    shapes = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x, train=False), images)
    rng = np.random.default_rng(seed)

    def draw(path, leaf):
        name = getattr(path[-1], "key", None)
        if name == "kernel":
            value = rng.normal(0.0, int(np.prod(leaf.shape[:-1])) ** -0.5, leaf.shape)
        else:
            value = np.full(leaf.shape, 1.0 if name in _ONES else 0.0)
        return jax.device_put(value.astype(leaf.dtype))  # a transfer, no per-shape compile

    return jax.tree_util.tree_map_with_path(draw, shapes)
