"""Classifier probes on frozen features (003 Sec. 3.2 baselines): 1-NN leave-one-out and logistic.

Both return an accuracy in [0, 1] (the paper reports x100): the better a simple classifier on the
source features does on the target labels, the better the source is predicted to transfer.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from transel_jax import checks
from transel_jax.metrics._feature_inputs import check_feats_labels, scale_by_max_abs, standardize_columns


@partial(jax.jit, static_argnames=("block_size",))
def _nn1_loo(feats, labels, block_size):
    n = feats.shape[0]
    feats, _ = scale_by_max_abs(feats)  # nearest neighbours are scale invariant; squares cannot overflow
    feats = feats - feats.mean(axis=0)  # distances are translation invariant; centring limits cancellation
    sq_norms = jnp.sum(feats**2, axis=1)

    def correct(i):
        # argmin_j |f_i - f_j|^2 = argmin_j |f_j|^2 - 2 f_i.f_j, excluding j = i.
        dist = sq_norms - 2.0 * (feats @ feats[i])
        dist = jnp.where(jnp.arange(n) == i, jnp.inf, dist)
        return labels[jnp.argmin(dist)] == labels[i]

    hits = jax.lax.map(correct, jnp.arange(n), batch_size=block_size)
    return jnp.mean(hits.astype(jnp.float32))


def nn1_loo_accuracy(feats, labels, num_classes: int, *, block_size: int = 256) -> jnp.ndarray:
    """1-NN leave-one-out accuracy: (1/n) sum_i [y_{nn(i)} = y_i], nn(i) = argmin_{j != i} |f_i - f_j|_2.

    Ties go to the lowest index j. Distances use |f_j|^2 - 2 f_i.f_j on centred features (float32
    rounding can flip near-ties). Rows are processed ``block_size`` at a time: memory O(block_size n),
    time O(n^2 D).

    Args:
      feats: float [n, D], n >= 2; labels: int [n] in 0..C-1; num_classes: C (checks the label range).
      block_size: rows per vectorised block (static).

    Returns a float32 scalar in [0, 1]. Jittable.
    """
    check_feats_labels(feats, labels, num_classes, min_rows=2)
    block_size = checks.check_positive_int(block_size, "block_size")
    return _nn1_loo(jnp.asarray(feats), jnp.asarray(labels), block_size)


def _as_key(seed):
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return jax.random.key(int(seed))
    if isinstance(seed, jax.Array) and jnp.issubdtype(seed.dtype, jax.dtypes.prng_key):
        return seed
    if isinstance(seed, jax.Array) and seed.shape == (2,) and seed.dtype == jnp.uint32:
        return jax.random.wrap_key_data(seed)
    raise TypeError(f"seed: expected an int or a jax PRNG key, got {type(seed).__name__}")


def half_split(n: int, seed) -> tuple[jnp.ndarray, jnp.ndarray]:
    """A seeded random split of range(n) into train (n // 2 indices) and test (the other n - n // 2).

    Args: n >= 2; seed: an int or a jax PRNG key. Same seed, same split.
    Returns (train_idx int32 [n // 2], test_idx int32 [n - n // 2]).
    """
    n = checks.check_positive_int(n, "n", minimum=2)
    return _split(_as_key(seed), n)


def _split(key, n: int):
    perm = jax.random.permutation(key, n)
    return perm[: n // 2], perm[n // 2 :]


def logistic_loss(params, feats, labels, l2):
    """Mean softmax cross-entropy of logits f W + b plus (l2 / 2)(|W|^2 + |b|^2); W [D, C], b [C]."""
    logits = feats @ params["w"] + params["b"]
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return ce + 0.5 * l2 * (jnp.sum(params["w"] ** 2) + jnp.sum(params["b"] ** 2))


@partial(jax.jit, static_argnames=("num_classes", "num_steps"))
def _fit_logistic(feats, labels, num_classes, l2, num_steps):
    params = {
        "w": jnp.zeros((feats.shape[1], num_classes), feats.dtype),
        "b": jnp.zeros((num_classes,), feats.dtype),
    }
    loss = partial(logistic_loss, feats=feats, labels=labels, l2=l2)
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(loss)

    def step(carry, _):
        params, state = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=loss)
        return (optax.apply_updates(params, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=num_steps)
    return params


def fit_logistic(feats, labels, num_classes: int, *, l2: float = 1e-3, num_steps: int = 100) -> dict:
    """Multinomial logistic regression by ``num_steps`` L-BFGS steps (optax, zoom line search).

    Minimises :func:`logistic_loss`; the L2 term on both W and b makes the optimum unique and finite
    even for separable data or classes absent from the training rows (documented choice).

    Args: feats float [n, D]; labels int [n] in 0..C-1; num_classes C (static); l2 > 0; num_steps (static).
    Returns {"w": [D, C], "b": [C]}. Jittable.
    """
    num_classes = check_feats_labels(feats, labels, num_classes)
    if not float(l2) > 0:
        raise ValueError(f"l2: expected a positive float, got {l2}")
    num_steps = checks.check_positive_int(num_steps, "num_steps")
    return _fit_logistic(jnp.asarray(feats), jnp.asarray(labels), num_classes, float(l2), num_steps)


def logistic_probe_accuracy(
    feats, labels, num_classes: int, *, seed, l2: float = 1e-3, num_steps: int = 100
) -> jnp.ndarray:
    """Accuracy of a logistic classifier fit on a seeded half of the samples, tested on the other half.

    (train, test) = half_split(n, seed); every feature dimension is z-scored with the mean and
    standard deviation of the train half (documented choice: raw post-ReLU features with large means
    leave L-BFGS far from the optimum after 100 steps; scaling also makes the score invariant to
    per-dimension affine maps); (W, b) = fit_logistic(x[train], y[train]);
    accuracy = mean_{i in test} [argmax_c (x_i W + b)_c = y_i].

    Args: feats float [n, D], n >= 2; labels int [n]; num_classes C; seed int or PRNG key; l2, num_steps
    as in :func:`fit_logistic`. Returns a float32 scalar in [0, 1].
    """
    num_classes = check_feats_labels(feats, labels, num_classes, min_rows=2)
    if not float(l2) > 0:
        raise ValueError(f"l2: expected a positive float, got {l2}")
    num_steps = checks.check_positive_int(num_steps, "num_steps")
    key = _as_key(seed)
    return _logistic_probe(jnp.asarray(feats), jnp.asarray(labels), key, num_classes, float(l2), num_steps)


@partial(jax.jit, static_argnames=("num_classes", "num_steps"))
def _logistic_probe(feats, labels, key, num_classes, l2, num_steps):
    train, test = _split(key, feats.shape[0])
    x_train, x_test = standardize_columns(feats[train]), standardize_columns(feats[test], feats[train])
    params = _fit_logistic(x_train, labels[train], num_classes, l2, num_steps)
    predicted = jnp.argmax(x_test @ params["w"] + params["b"], axis=1)
    return jnp.mean((predicted == labels[test]).astype(jnp.float32))


__all__ = ["nn1_loo_accuracy", "half_split", "logistic_loss", "fit_logistic", "logistic_probe_accuracy"]
