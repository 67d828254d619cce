"""Pixel cross-entropy against a float64 loop; void pixels get exactly zero gradient."""
import jax
import jax.numpy as jnp
import numpy as np

from transel_jax.train.losses import pixel_cross_entropy, pixel_cross_entropy_sum


def reference_loss(logits, labels, class_weights=None):
    logits = np.asarray(logits, np.float64)
    num, den = 0.0, 0.0
    for idx in np.ndindex(labels.shape):
        y = int(labels[idx])
        if y == 0:
            continue
        z = logits[idx]
        log_p = z - (np.log(np.sum(np.exp(z - z.max()))) + z.max())
        w = 1.0 if class_weights is None else float(class_weights[y - 1])
        num += -w * log_p[y - 1]
        den += w
    return num / den, den


def sample(seed=0, shape=(2, 5, 6), k=3):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=shape + (k,)).astype(np.float32)
    labels = rng.integers(0, k + 1, size=shape).astype(np.int32)
    return logits, labels


def test_matches_float64_reference_with_and_without_class_weights():
    logits, labels = sample()
    weights = np.array([0.5, 2.0, 1.25], np.float32)
    for cw in (None, weights):
        want, den = reference_loss(logits, labels, cw)
        total, weight_sum = pixel_cross_entropy_sum(logits, labels, None if cw is None else jnp.asarray(cw))
        np.testing.assert_allclose(float(total) / float(weight_sum), want, rtol=1e-5)
        np.testing.assert_allclose(float(weight_sum), den, rtol=1e-6)
        np.testing.assert_allclose(float(pixel_cross_entropy(logits, labels, cw)), want, rtol=1e-5)


def test_gradient_is_zero_exactly_on_void_pixels():
    logits, labels = sample(seed=1)
    grad = np.asarray(jax.grad(pixel_cross_entropy)(jnp.asarray(logits), labels))
    void = labels == 0
    assert void.any() and (~void).any()
    assert np.all(grad[void] == 0.0)
    assert np.all(np.abs(grad[~void]).sum(-1) > 0)


def test_all_void_batch_gives_zero_loss_not_nan():
    logits, labels = sample(seed=2)
    loss = pixel_cross_entropy(logits, np.zeros_like(labels))
    assert float(loss) == 0.0


def test_bfloat16_logits_are_lossed_in_float32():
    logits, labels = sample(seed=3)
    want, _ = reference_loss(np.asarray(jnp.asarray(logits, jnp.bfloat16).astype(jnp.float32)), labels)
    got = pixel_cross_entropy(jnp.asarray(logits, jnp.bfloat16), labels)
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(float(got), want, rtol=1e-5)
