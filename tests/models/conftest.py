"""Shared, session-scoped tiny models.

Their variables come from :func:`transel_jax.models.random_variables` (numpy draws in the structure of
``jax.eval_shape(model.init)``): ``jax.jit(model.init)`` would compile a threefry hash per parameter and
module-path level, tens of seconds of CPU time for HRNetV2-tiny's 108 parameter arrays.
"""
import pytest

from transel_jax import models

NUM_CLASSES = 5


def tiny_model(name: str):
    model = models.build(name, NUM_CLASSES)
    return model, models.random_variables(model, (2, 32, 32, 3), seed=0)


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
