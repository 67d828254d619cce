"""Shared, session-scoped tiny models with variables filled from numpy.

``jax.jit(model.init)`` compiles one threefry hash per parameter and per module-path level, which takes
tens of seconds of CPU time for HRNetV2-tiny's 108 parameter arrays. The variables' structure, shapes and
dtypes are taken from ``jax.eval_shape(model.init)`` (so the real init path is still traced) and filled
with the same kind of values the initialisers give: conv kernels ~ N(0, 1/fan_in), biases 0, BatchNorm
scale 1 and bias 0, running mean 0 and variance 1.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from transel_jax import models

NUM_CLASSES = 5


def fill_variables(shapes, seed: int = 0):
    rng = np.random.default_rng(seed)

    def fill(path, leaf):
        name = path[-1].key
        if name == "kernel":
            fan_in = int(np.prod(leaf.shape[:-1]))
            return jnp.asarray(rng.normal(0.0, fan_in**-0.5, leaf.shape), leaf.dtype)
        return jnp.full(leaf.shape, 1.0 if name in ("scale", "var") else 0.0, leaf.dtype)

    return jax.tree_util.tree_map_with_path(fill, shapes)


def tiny_model(name: str):
    model = models.build(name, NUM_CLASSES)
    images = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)
    return model, fill_variables(jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x), images))


@pytest.fixture(scope="session")
def hrnet_tiny():
    return tiny_model("hrnetv2_tiny")


@pytest.fixture(scope="session")
def resnet_tiny():
    return tiny_model("resnet_tiny")


@pytest.fixture(scope="session")
def tiny(request):
    """Indirect fixture: ``request.param`` is a tiny model name."""
    return request.getfixturevalue({"hrnetv2_tiny": "hrnet_tiny", "resnet_tiny": "resnet_tiny"}[request.param])
