"""The Expected Empirical Predictor (EEP) and the single-source metrics built on it: LEEP and NCE.

Conventions (all functions here):
  probs:  float [n, Z]  a source model's softmax over its own label space Z at n target pixels.
  labels: int   [n]     target class indices in 0..C-1 (dataset label minus one; void already removed).
  num_classes: C, static.

Formulas (Nguyen et al. 2020, eq. 1-2 of the ensemble paper):
  P(y, z) = (1/n) sum_i p(z | x_i) [y_i = y]            joint, [C, Z]
  P(z)    = sum_y P(y, z)                                 marginal of source classes
  P(y | z) = P(y, z) / P(z)
  p_s(y | x_i) = sum_z P(y | z) p(z | x_i)                the EEP, [n, C]
  LEEP = (1/n) sum_i log p_s(y_i | x_i)
A source class that is never predicted (P(z) = 0) contributes nothing to any EEP row; its conditional is
set to uniform so that P(y | z) stays a distribution. log is taken of max(p, EPS) with EPS = 1e-12, so
no -inf appears even for externally supplied predictors with exact zeros.

Inputs may be jax or numpy arrays or nested Python lists (converted with numpy; a ragged list is a
TypeError naming the argument). ``probs`` needs at least one source class (Z >= 1).

NCE (Tran et al. 2019, as applied to models in Nguyen et al. 2020 and the PARC paper): the source's
hard prediction z_i = argmax_z p(z | x_i) replaces the distribution:
  P(y, z) = (1/n) #{i : y_i = y, z_i = z},  NCE = -H(Y | Z) = sum_{y,z} P(y, z) log P(y | z).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from transel_jax import checks

EPS = 1e-12


def clip(p):
    """max(p, EPS): the one probability floor.

    Ensemble metrics apply it to every member's probability *before* averaging over members, i.e.
    E-LEEP = mean_i log(mean_s clip(q_si)); then log(mean_s clip(q)) >= mean_s log(clip(q)) (Jensen) holds
    exactly, so E-LEEP >= MS-LEEP / S on every input, also near the floor (clipping only the average
    breaks it when some member's probability is below EPS).
    """
    return jnp.maximum(p, EPS)


def safe_log(p):
    """log(max(p, EPS)): the documented clip that keeps every metric finite."""
    return jnp.log(clip(p))


def as_array(x, name: str):
    """``x`` as an array: jax/numpy arrays and tracers as they are, sequences (Python lists) via numpy.

    A ragged or non-numeric sequence is a TypeError naming ``name``.
    """
    if isinstance(x, (jax.Array, np.ndarray)) or checks.is_traced(x):
        return x
    if x is None or isinstance(x, (str, bytes, dict)):
        raise TypeError(f"{name}: expected an array (or a nested list of numbers), got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged nesting
        raise TypeError(f"{name}: expected a rectangular array (or nested list of numbers), got a ragged "
                        f"{type(x).__name__} ({str(err).splitlines()[0][:120]})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected numbers, got a {type(x).__name__} of {arr.dtype} values")
    return arr


def validate_probs_labels(probs, labels, num_classes: int, probs_name: str = "probs") -> None:
    """Checks shared by the single-source metrics (skipped value checks under jit)."""
    checks.check_positive_int(num_classes, "num_classes", minimum=2)
    checks.check_rank(probs, probs_name, 2, "[n, Z]")
    if probs.shape[1] == 0:
        raise ValueError(f"{probs_name}: expected at least one source class (axis 1, Z >= 1), got shape "
                         f"{tuple(probs.shape)}")
    checks.check_rank(labels, "labels", 1, "[n]")
    checks.check_nonempty(labels, "labels")
    checks.check_dim("labels", "n (pixels, matching " + probs_name + ")", labels.shape[0], probs.shape[0])
    checks.check_labels(labels, "labels", 0, num_classes - 1)
    checks.check_probabilities(probs, probs_name)


def joint_distribution(probs, labels, num_classes: int):
    """Empirical joint P(y, z), float32 [C, Z]: (1/n) sum_i [y_i = y] p(z | x_i)."""
    onehot = jax.nn.one_hot(labels, num_classes, dtype=probs.dtype)  # [n, C]
    return onehot.T @ probs / probs.shape[0]


def conditional_from_joint(joint):
    """P(y | z) = P(y, z) / P(z), [C, Z]; columns with P(z) = 0 become uniform."""
    marginal = jnp.sum(joint, axis=0, keepdims=True)  # [1, Z]
    uniform = jnp.full_like(joint, 1.0 / joint.shape[0])
    return jnp.where(marginal > 0, joint / jnp.where(marginal > 0, marginal, 1.0), uniform)


@functools.partial(jax.jit, static_argnums=2)
def _eep(probs, labels, num_classes):
    cond = conditional_from_joint(joint_distribution(probs, labels, num_classes))  # [C, Z]
    return probs @ cond.T  # [n, C]


def eep(probs, labels, num_classes: int):
    """EEP predictions p_s(y | x_i) in the target label space, float32 [n, C]. Rows sum to 1.

    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)
    >>> np.asarray(eep(p, np.array([0, 1]), 2), np.float64).round(3).tolist()
    [[0.747, 0.253], [0.253, 0.747]]
    """
    probs, labels = as_array(probs, "probs"), as_array(labels, "labels")
    validate_probs_labels(probs, labels, num_classes)
    return _eep(jnp.asarray(probs, jnp.float32), jnp.asarray(labels), num_classes)


def true_class_prob(pred, labels):
    """pred[i, labels[i]] for pred [..., n, C] and labels [n] -> [..., n]."""
    idx = jnp.broadcast_to(labels[:, None], pred.shape[:-1] + (1,))
    return jnp.take_along_axis(pred, idx, axis=-1)[..., 0]


def leep(probs, labels, num_classes: int):
    """LEEP score (a scalar, <= 0; higher means better transfer): mean_i log p_s(y_i | x_i)."""
    probs, labels = as_array(probs, "probs"), as_array(labels, "labels")
    validate_probs_labels(probs, labels, num_classes)
    return _leep(jnp.asarray(probs, jnp.float32), jnp.asarray(labels), num_classes)


@functools.partial(jax.jit, static_argnums=2)
def _leep(probs, labels, num_classes):
    return jnp.mean(safe_log(true_class_prob(_eep(probs, labels, num_classes), labels)))


def nce(probs, labels, num_classes: int):
    """NCE score (a scalar, <= 0): -H(Y | Z) with Z the source's argmax prediction."""
    probs, labels = as_array(probs, "probs"), as_array(labels, "labels")
    validate_probs_labels(probs, labels, num_classes)
    return _nce(jnp.asarray(probs, jnp.float32), jnp.asarray(labels), num_classes)


@functools.partial(jax.jit, static_argnums=2)
def _nce(probs, labels, num_classes):
    hard = jax.nn.one_hot(jnp.argmax(probs, axis=-1), probs.shape[-1], dtype=jnp.float32)
    joint = joint_distribution(hard, labels, num_classes)  # [C, Z]
    cond = conditional_from_joint(joint)
    return jnp.sum(jnp.where(joint > 0, joint * safe_log(cond), 0.0))


def eep_stack(source_probs, labels, num_classes: int):
    """EEP predictions of several sources, float32 [N, n, C].

    Source label spaces differ in size, so ``source_probs`` is a sequence of [n, Z_s] arrays; the EEP step
    maps each into the target label space, after which they stack.
    """
    if source_probs is None or isinstance(source_probs, (str, bytes, dict)) \
            or not hasattr(source_probs, "__len__"):
        raise TypeError(f"source_probs: expected a sequence of [n, Z_s] arrays, one per source, got "
                        f"{type(source_probs).__name__}")
    if len(source_probs) == 0:
        raise ValueError("source_probs: expected at least one source, got 0")
    labels = as_array(labels, "labels")
    return jnp.stack([_checked_eep(i, p, labels, num_classes) for i, p in enumerate(source_probs)])


def _checked_eep(index, probs, labels, num_classes):
    probs = as_array(probs, f"source_probs[{index}]")
    validate_probs_labels(probs, labels, num_classes, probs_name=f"source_probs[{index}]")
    return _eep(jnp.asarray(probs, jnp.float32), jnp.asarray(labels), num_classes)
