"""Bad input raises a clear error naming the argument, the expectation and what was got."""
import jax
import jax.numpy as jnp
import pytest

from transel_jax import models


def abstract_apply(model, shape, dtype=jnp.float32):
    images = jax.ShapeDtypeStruct(shape, dtype)
    return jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x), images)


def test_unknown_name_lists_the_known_names():
    with pytest.raises(ValueError, match="unknown model 'hrnet_w99'") as err:
        models.build("hrnet_w99", 5)
    for name in models.names():
        assert name in str(err.value)


@pytest.mark.parametrize("num_classes, error", [(1, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_num_classes_must_be_an_integer_of_at_least_two(num_classes, error):
    with pytest.raises(error, match="num_classes: expected an integer >= 2"):
        models.build("resnet_tiny", num_classes)
    with pytest.raises(error, match="num_classes"):
        models.EnsembleHead(num_members=3, num_classes=num_classes)


def test_wrong_rank_is_rejected():
    model = models.build("resnet_tiny", 4)
    with pytest.raises(ValueError, match=r"images: expected a 4-d array \[B, H, W, 3\], got shape \(32, 32, 3\)"):
        abstract_apply(model, (32, 32, 3))


def test_non_rgb_is_rejected():
    model = models.build("hrnetv2_tiny", 4)
    with pytest.raises(ValueError, match=r"images: expected 3 \(RGB\) channels.*\(2, 32, 32, 1\)"):
        abstract_apply(model, (2, 32, 32, 1))


def test_integer_images_are_rejected():
    model = models.build("hrnetv2_tiny", 4)
    with pytest.raises(TypeError, match="images: expected a floating array.*uint8"):
        abstract_apply(model, (2, 32, 32, 3), jnp.uint8)


def test_errors_surface_under_jit_too():
    model = models.build("resnet_tiny", 4)
    with pytest.raises(ValueError, match="RGB"):
        jax.jit(lambda x: model.init(jax.random.PRNGKey(0), x)).lower(jax.ShapeDtypeStruct((1, 8, 8, 4), jnp.float32))


def test_bad_overrides_and_options():
    with pytest.raises(TypeError, match=r"unknown field\(s\) \['depth'\].*expected some of"):
        models.build("hrnetv2_w18", 5, depth=3)
    with pytest.raises(ValueError, match="width: expected an integer >= 1, got 0"):
        models.build("hrnetv2_tiny", 5, width=0)
    with pytest.raises(ValueError, match="trim_last: expected fewer than"):
        models.build("resnet_tiny", 5, trim_last=6)
    with pytest.raises(ValueError, match="atrous_rates: expected distinct"):
        models.build("resnet_tiny", 5, atrous_rates=(1, 1))
    with pytest.raises(TypeError, match="dtype: expected a floating dtype"):
        models.build("resnet_tiny", 5, dtype=jnp.int32)
    with pytest.raises(ValueError, match=r"input_size: expected \(H, W\)"):
        models.describe("resnet_tiny", 5, input_size=(64,))


def test_ensemble_head_checks_member_shape():
    head = models.EnsembleHead(num_members=3, num_classes=4)
    with pytest.raises(ValueError, match=r"member_logits: expected shape \[..., S=3, C=4\], got \(10, 2, 4\)"):
        head.init(jax.random.PRNGKey(0), jnp.zeros((10, 2, 4)))
