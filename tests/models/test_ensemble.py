"""The ensemble head against a float64 numpy reference; only the head trains when members are frozen."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from transel_jax import models


def softmax64(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference(member_logits, weight, bias):
    """(1/S) sum_s softmax(w[s] * z_s + b[s]) with a loop over members."""
    z = np.asarray(member_logits, np.float64)
    s_count = z.shape[-2]
    return sum(softmax64(z[..., s, :] * weight[s] + bias[s]) for s in range(s_count)) / s_count


@pytest.fixture(scope="module")
def member_logits():
    return 3.0 * jax.random.normal(jax.random.PRNGKey(0), (4, 6, 3, 7))  # [B, n, S=3, C=7]


def test_initial_head_is_the_plain_average_of_member_probabilities(member_logits):
    head = models.EnsembleHead(num_members=3, num_classes=7)
    params = head.init(jax.random.PRNGKey(1), member_logits)
    assert models.count_params(params) == 2 * 3 * 7
    probs = head.apply(params, member_logits)
    plain = np.mean([softmax64(member_logits[..., s, :]) for s in range(3)], axis=0)
    assert probs.shape == (4, 6, 7) and probs.dtype == jnp.float32
    np.testing.assert_allclose(probs, plain, rtol=1e-5, atol=1e-7)


def test_trained_weights_and_biases_match_the_reference(member_logits):
    head = models.EnsembleHead(num_members=3, num_classes=7)
    rng = np.random.default_rng(2)
    weight, bias = rng.uniform(0.2, 2.0, (3, 7)), rng.normal(0, 1, (3, 7))
    params = {"params": {"weight": jnp.asarray(weight, jnp.float32), "bias": jnp.asarray(bias, jnp.float32)}}
    probs = head.apply(params, member_logits)
    expected = reference(member_logits, weight, bias)
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.sum(probs, -1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(head.apply(params, member_logits, log=True), np.log(expected), rtol=1e-5, atol=1e-6)


def test_log_probabilities_stay_finite_for_extreme_logits():
    head = models.EnsembleHead(num_members=2, num_classes=3)
    z = jnp.array([[[1e4, -1e4, 0.0], [2e4, 0.0, -3e4]]])  # [1, S=2, C=3]
    params = head.init(jax.random.PRNGKey(0), z)
    log_p = head.apply(params, z, log=True)
    assert np.all(np.isfinite(log_p))
    # class 2: member 0 gives log-prob -1e4, member 1 gives -5e4, so log p = log((e^-1e4 + e^-5e4) / 2)
    np.testing.assert_allclose(log_p[0, 2], np.log(0.5) - 1e4, rtol=1e-6)
    np.testing.assert_allclose(log_p[0, 1], -2e4, rtol=1e-6)  # both members give -2e4


def test_only_the_head_trains_when_members_are_frozen(resnet_tiny):
    model, variables = resnet_tiny
    members = [model, model]
    member_vars = [variables, jax.tree_util.tree_map(lambda x: x * 1.1, variables)]
    images = jax.random.normal(jax.random.PRNGKey(3), (2, 16, 16, 3))
    labels = jax.random.randint(jax.random.PRNGKey(4), (2, 16, 16), 0, model.num_classes)
    head = models.EnsembleHead(num_members=2, num_classes=model.num_classes)
    head_params = head.init(jax.random.PRNGKey(5), jnp.zeros((1, 2, model.num_classes)))

    def loss(head_params, member_vars):
        z = models.frozen_member_logits(members, member_vars, images)  # [B, H, W, S, C]
        log_p = head.apply(head_params, z, log=True)
        return -jnp.mean(jnp.take_along_axis(log_p, labels[..., None], axis=-1))

    loss = jax.jit(loss)
    head_grads, member_grads = jax.jit(jax.grad(loss, argnums=(0, 1)))(head_params, member_vars)
    for g in jax.tree_util.tree_leaves(member_grads):
        np.testing.assert_array_equal(g, 0.0)
    for g in jax.tree_util.tree_leaves(head_grads):
        assert np.all(np.isfinite(g)) and np.any(g != 0)

    # One optax step moves the head only; the loss falls.
    opt = optax.sgd(0.5)
    updates, _ = opt.update(head_grads, opt.init(head_params))
    new_head = optax.apply_updates(head_params, updates)
    assert loss(new_head, member_vars) < loss(head_params, member_vars)


def test_frozen_member_logits_checks_its_members(resnet_tiny):
    model, variables = resnet_tiny
    other = models.build("resnet_tiny", model.num_classes + 1)
    with pytest.raises(ValueError, match="equally long non-empty"):
        models.frozen_member_logits([model], [], jnp.zeros((1, 16, 16, 3)))
    with pytest.raises(ValueError, match="one shared num_classes"):
        models.frozen_member_logits([model, other], [variables, variables], jnp.zeros((1, 16, 16, 3)))
