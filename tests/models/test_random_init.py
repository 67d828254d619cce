"""random_variables: the structure of model.init, the documented distribution, reproducible by seed."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from transel_jax import models


def test_structure_shapes_and_dtypes_equal_model_init():
    model = models.build("hrnetv2_tiny", 20)
    variables = models.random_variables(model, seed=3)
    shapes = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x), jnp.zeros((1, 64, 64, 3)))
    assert jax.tree_util.tree_structure(variables) == jax.tree_util.tree_structure(shapes)
    for got, want in zip(jax.tree_util.tree_leaves(variables), jax.tree_util.tree_leaves(shapes)):
        assert got.shape == want.shape and got.dtype == want.dtype


def test_values_follow_the_documented_distribution_and_seed():
    model = models.build("resnet_tiny", 4)
    a = models.random_variables(model, seed=1)
    b = models.random_variables(model, seed=1)
    c = models.random_variables(model, seed=2)
    jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)
    kernel = np.asarray(a["params"]["backbone"]["stage4_block0_conv1"]["kernel"])  # 3x3x64x64
    fan_in = 3 * 3 * 64
    assert kernel.shape == (3, 3, 64, 64)
    assert abs(kernel.mean()) < 4 * fan_in**-0.5 / np.sqrt(kernel.size)
    assert abs(kernel.std() * np.sqrt(fan_in) - 1.0) < 0.02  # 36864 draws: std error ~0.4%
    assert not np.array_equal(kernel, c["params"]["backbone"]["stage4_block0_conv1"]["kernel"])
    stats = a["batch_stats"]["backbone"]["BatchNorm_0"]
    np.testing.assert_array_equal(stats["mean"], 0.0)
    np.testing.assert_array_equal(stats["var"], 1.0)
    np.testing.assert_array_equal(a["params"]["backbone"]["BatchNorm_0"]["scale"], 1.0)
    np.testing.assert_array_equal(a["params"]["head"]["classifier"]["bias"], 0.0)


def test_bad_image_shape():
    with pytest.raises(ValueError, match=r"image_shape: expected \[B, H, W, 3\]"):
        models.random_variables(models.build("resnet_tiny", 4), (64, 64, 3))
