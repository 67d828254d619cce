"""Forward pass behaviour of the tiny segmenters against float64 numpy references."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh, PartitionSpec as P

from transel_jax import models

TINY = ["hrnetv2_tiny", "resnet_tiny"]
NUM_CLASSES = 5  # the session fixtures' tiny models (tests/models/conftest.py)


def random_images(seed, shape=(2, 32, 32, 3)):
    return jax.random.normal(jax.random.PRNGKey(seed), shape, jnp.float32)


def bilinear_reference(x, height, width):
    """Half-pixel-centre bilinear resize of x [B, h, w, D] with edge clamping, float64 loops over axes."""
    x = np.asarray(x, np.float64)
    for axis, out in ((1, height), (2, width)):
        n = x.shape[axis]
        src = np.clip((np.arange(out) + 0.5) * n / out - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        t = (src - lo).reshape([-1 if a == axis else 1 for a in range(4)])
        x = np.take(x, lo, axis=axis) * (1 - t) + np.take(x, hi, axis=axis) * t
    return x


def conv_reference(x, kernel, stride, pad):
    """Cross-correlation of x [B, H, W, Cin] with kernel [k, k, Cin, Cout], symmetric zero padding."""
    x = np.pad(np.asarray(x, np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    k = kernel.shape[0]
    ho, wo = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
    out = 0
    for a in range(k):
        for c in range(k):
            patch = x[:, a:a + stride * (ho - 1) + 1:stride, c:c + stride * (wo - 1) + 1:stride]
            out = out + patch @ np.asarray(kernel[a, c], np.float64)
    return out


@pytest.mark.parametrize("tiny", TINY, indirect=True)
def test_variable_collections(tiny):
    _, variables = tiny
    assert set(variables) == {"params", "batch_stats"}
    assert set(variables["params"]) == {"backbone", "head"}
    assert set(variables["batch_stats"]) == {"backbone"}  # the linear head has no BatchNorm
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree_util.tree_leaves(variables))


@pytest.mark.parametrize("tiny, stride", [("hrnetv2_tiny", 4), ("resnet_tiny", 8)], indirect=["tiny"])
def test_odd_size_logits_are_the_upsampled_linear_head(tiny, stride):
    model, variables = tiny
    images = random_images(1, (2, 65, 97, 3))
    logits, feats = jax.jit(lambda v, x: model.apply(v, x, return_features=True))(variables, images)
    h, w = -(-65 // stride), -(-97 // stride)
    assert logits.shape == (2, 65, 97, NUM_CLASSES) and logits.dtype == jnp.float32
    assert feats.shape == (2, h, w, model.backbone.feature_channels) and feats.dtype == jnp.float32
    head = variables["params"]["head"]["classifier"]
    coarse = np.asarray(feats, np.float64) @ np.asarray(head["kernel"][0, 0], np.float64) + np.asarray(head["bias"])
    np.testing.assert_allclose(logits, bilinear_reference(coarse, 65, 97), rtol=1e-4, atol=1e-4)


def test_hrnet_features_concatenate_four_branches_at_quarter_resolution(hrnet_tiny):
    model, variables = hrnet_tiny
    feats = jax.eval_shape(lambda v, x: model.apply(v, x, return_features=True)[1], variables,
                           jax.ShapeDtypeStruct((1, 65, 97, 3), jnp.float32))
    width = model.backbone.width
    assert feats.shape == (1, 17, 25, 15 * width)  # C + 2C + 4C + 8C channels at ceil(H/4), ceil(W/4)


def test_batchnorm_train_uses_batch_statistics_and_eval_the_running_ones(resnet_tiny):
    model, variables = resnet_tiny
    images = random_images(2)
    run = jax.jit(lambda v, x, train: model.apply(
        v, x, train=train, capture_intermediates=True, mutable=["batch_stats", "intermediates"]),
        static_argnums=2)
    kernel = variables["params"]["backbone"]["Conv_0"]["kernel"]
    stem = conv_reference(images, kernel, stride=2, pad=3)  # the 7x7 stride-2 stem conv, float64
    mean, var = stem.mean(axis=(0, 1, 2)), stem.var(axis=(0, 1, 2))

    _, state = run(variables, images, True)
    bn_out = np.asarray(state["intermediates"]["backbone"]["BatchNorm_0"]["__call__"][0], np.float64)
    np.testing.assert_allclose(bn_out, (stem - mean) / np.sqrt(var + 1e-5), rtol=1e-3, atol=1e-3)
    stats = state["batch_stats"]["backbone"]["BatchNorm_0"]
    np.testing.assert_allclose(stats["mean"], 0.9 * 0.0 + 0.1 * mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(stats["var"], 0.9 * 1.0 + 0.1 * var, rtol=1e-4)

    trained = {"params": variables["params"], "batch_stats": state["batch_stats"]}
    _, state = run(trained, images, False)
    bn_out = np.asarray(state["intermediates"]["backbone"]["BatchNorm_0"]["__call__"][0], np.float64)
    ra_mean, ra_var = (np.asarray(stats[k], np.float64) for k in ("mean", "var"))
    np.testing.assert_allclose(bn_out, (stem - ra_mean) / np.sqrt(ra_var + 1e-5), rtol=1e-3, atol=1e-3)
    jax.tree_util.tree_map(np.testing.assert_array_equal, state["batch_stats"], trained["batch_stats"])


def test_eval_output_of_an_image_does_not_depend_on_the_rest_of_the_batch(resnet_tiny):
    model, variables = resnet_tiny
    a, b = random_images(3), random_images(4)
    mixed = jnp.concatenate([a[:1], b[1:]])
    ev = jax.jit(lambda x: model.apply(variables, x, train=False))
    tr = jax.jit(lambda x: model.apply(variables, x, train=True, mutable=["batch_stats"])[0])
    np.testing.assert_allclose(ev(a)[0], ev(mixed)[0], rtol=1e-5, atol=1e-5)
    assert np.max(np.abs(tr(a)[0] - tr(mixed)[0])) > 1e-2  # batch statistics couple the images


def test_sync_batchnorm_over_four_devices_equals_one_big_batch(resnet_tiny):
    _, variables = resnet_tiny
    assert jax.device_count() >= 4
    mesh = Mesh(np.array(jax.devices()[:4]), ("data",))
    synced = models.build("resnet_tiny", NUM_CLASSES, axis_name="data")
    single = models.build("resnet_tiny", NUM_CLASSES)
    images = random_images(5, (8, 32, 32, 3))

    def step(model, v, x):
        return model.apply(v, x, train=True, mutable=["batch_stats"])

    sharded = jax.jit(jax.shard_map(lambda v, x: step(synced, v, x), mesh=mesh,
                                    in_specs=(P(), P("data")), out_specs=(P("data"), P())))
    logits, state = sharded(variables, images)
    ref_logits, ref_state = jax.jit(lambda v, x: step(single, v, x))(variables, images)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-4, atol=1e-4)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
                           state, ref_state)


def test_every_parameter_receives_a_gradient(hrnet_tiny):
    model, variables = hrnet_tiny
    images = random_images(6)
    labels = jax.random.randint(jax.random.PRNGKey(7), (2, 32, 32), 0, NUM_CLASSES)

    def loss(params):
        logits, _ = model.apply({"params": params, "batch_stats": variables["batch_stats"]}, images,
                                train=True, mutable=["batch_stats"])
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    grads = jax.jit(jax.grad(loss))(variables["params"])
    for path, g in jax.tree_util.tree_flatten_with_path(grads)[0]:
        assert np.all(np.isfinite(g)), jax.tree_util.keystr(path)
        assert np.any(g != 0), f"no gradient reaches {jax.tree_util.keystr(path)}"


@pytest.mark.parametrize("tiny", TINY, indirect=True)
def test_bfloat16_compute_is_close_to_float32(tiny):
    model32, variables = tiny
    images = random_images(8)
    outs = {}
    for dtype in (jnp.float32, jnp.bfloat16):
        model = model32.clone(dtype=dtype, backbone=model32.backbone.clone(dtype=dtype))
        shapes = jax.eval_shape(lambda x: model.init(jax.random.PRNGKey(0), x), images)
        assert all(s.dtype == jnp.float32 for s in jax.tree_util.tree_leaves(shapes))  # float32 params
        logits = jax.jit(model.apply)(variables, images)
        assert logits.dtype == jnp.float32
        outs[dtype] = np.asarray(logits, np.float64)
    f32, bf16 = outs[jnp.float32], outs[jnp.bfloat16]
    # bfloat16 rounds to 8 significant bits (relative error <= 2**-9 per op); over the ~20-50 layers
    # rounding errors add up like a random walk to about 1%.
    rel_rms = np.linalg.norm(bf16 - f32) / np.linalg.norm(f32)
    assert 0 < rel_rms < 0.02, rel_rms
    assert np.mean(np.argmax(bf16, -1) == np.argmax(f32, -1)) > 0.95
