"""Up-front checks of the training hyper-parameters and of a whole ``transel train`` config.

Everything a run would otherwise trip over after minutes of data loading, compiling and training (a zero
checkpoint interval dividing a step number, a NaN learning rate diverging at the first step) is checked
here before any work starts. Each ``*_problems`` function returns every problem found as
``(exception type, message)`` pairs naming the field, what was expected and what was got, so a caller
validating a larger config (``transel run``'s dry run) can list them all; the ``check_*`` functions raise
the first kind (:func:`raise_problems`).

Fields (see :mod:`transel_jax.train.defaults`): ``train`` group: global_batch_size, steps (ints >= 1),
base_lr (finite, > 0), schedule (:data:`transel_jax.train.schedules.KINDS`), warmup_steps (int >= 0),
momentum (finite, in [0, 1)), weight_decay (finite, >= 0), seed (int), class_weights (None or finite
weights >= 0, not all 0), freeze_backbone (bool), init_from (str); ``checkpoint`` group: every_steps,
keep (ints >= 1); ``log_every`` (int >= 1); ``eval.batch_size`` (int >= 1 when ``eval.split`` is set);
``model.name`` (non-empty str), ``model.dtype`` ("float32" | "bfloat16"); ``data.dataset`` (non-empty str).
"""
from __future__ import annotations

import math
import numbers
from typing import Mapping

from transel_jax.train.schedules import KINDS

Problem = tuple[type, str]
DTYPE_NAMES = ("float32", "bfloat16")


def _int(value, name: str, minimum: int) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return [(TypeError, f"{name}: expected an integer >= {minimum}, got {value!r}")]
    if value < minimum:
        return [(ValueError, f"{name}: expected an integer >= {minimum}, got {value}")]
    return []


def _real(value, name: str, low: float, high: float | None = None, *, low_open: bool = False,
          high_open: bool = True) -> list[Problem]:
    """A finite real number in the interval [low, high) (open/closed ends as given)."""
    span = ("(" if low_open else "[") + f"{low:g}, " + (
        "inf)" if high is None else f"{high:g}" + (")" if high_open else "]"))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return [(TypeError, f"{name}: expected a finite number in {span}, got {value!r}")]
    value = float(value)
    ok = math.isfinite(value) and (value > low if low_open else value >= low)
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    return [] if ok else [(ValueError, f"{name}: expected a finite number in {span}, got {value!r}")]


def _get(group, key, default=None):
    return group.get(key, default) if hasattr(group, "get") else default


def hparams_problems(hparams: Mapping, prefix: str = "") -> list[Problem]:
    """Problems of the ``train`` group (module docstring); ``prefix`` is prepended to field names."""
    p = prefix
    out: list[Problem] = []
    for key in ("global_batch_size", "steps", "base_lr", "schedule"):
        if _get(hparams, key) is None:
            out.append((ValueError, f"{p}{key}: expected a value, got none (the field is missing)"))
    if out:
        return out
    out += _int(hparams["global_batch_size"], f"{p}global_batch_size", 1)
    out += _int(hparams["steps"], f"{p}steps", 1)
    out += _real(hparams["base_lr"], f"{p}base_lr", 0.0, low_open=True, high=None)
    if hparams["schedule"] not in KINDS:
        out.append((ValueError, f"{p}schedule: expected one of {list(KINDS)}, got {hparams['schedule']!r}"))
    out += _int(_get(hparams, "warmup_steps", 0), f"{p}warmup_steps", 0)
    out += _real(_get(hparams, "momentum", 0.9), f"{p}momentum", 0.0, 1.0)
    out += _real(_get(hparams, "weight_decay", 0.0), f"{p}weight_decay", 0.0, None)
    seed = _get(hparams, "seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        out.append((TypeError, f"{p}seed: expected an integer, got {seed!r}"))
    out += _class_weights(_get(hparams, "class_weights"), f"{p}class_weights")
    freeze = _get(hparams, "freeze_backbone", False)
    if not isinstance(freeze, bool):
        out.append((TypeError, f"{p}freeze_backbone: expected true or false, got {freeze!r}"))
    init_from = _get(hparams, "init_from", "")
    if not isinstance(init_from, str):
        out.append((TypeError, f"{p}init_from: expected a checkpoint directory or '', got {init_from!r}"))
    return out


def _class_weights(weights, name: str) -> list[Problem]:
    if weights is None:
        return []
    if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
        return [(TypeError, f"{name}: expected None or a list of one weight per class, got {weights!r}")]
    if len(weights) == 0:
        return [(ValueError, f"{name}: expected None or a list of one weight per class, got an empty list")]
    for i, w in enumerate(weights):
        found = _real(w, f"{name}[{i}]", 0.0, None)
        if found:
            return found
    if not any(float(w) > 0 for w in weights):
        return [(ValueError, f"{name}: expected at least one positive weight, got all zero")]
    return []


def ckpt_problems(ckpt: Mapping, prefix: str = "") -> list[Problem]:
    """Problems of the ``checkpoint`` group: every_steps and keep, ints >= 1."""
    return (_int(_get(ckpt, "every_steps"), f"{prefix}every_steps", 1)
            + _int(_get(ckpt, "keep"), f"{prefix}keep", 1))


def train_config_problems(config, *, need_dataset: bool = True) -> list[Problem]:
    """Problems of a whole ``transel train`` config (:func:`transel_jax.train.defaults.source_config`).

    ``need_dataset=False`` skips ``data.dataset`` (for callers that supply the dataset themselves).
    """
    out: list[Problem] = []
    for group in ("model", "data", "train", "checkpoint", "eval"):
        if not hasattr(_get(config, group), "get"):
            out.append((ValueError, f"config.{group}: expected a group of fields, got {_get(config, group)!r}"))
    if out:
        return out
    name = _get(config.model, "name")
    if not isinstance(name, str) or not name:
        out.append((ValueError, f"config.model.name: expected a model name, got {name!r}"))
    dtype = _get(config.model, "dtype", "float32")
    if dtype not in DTYPE_NAMES:
        out.append((ValueError, f"config.model.dtype: expected one of {list(DTYPE_NAMES)}, got {dtype!r}"))
    dataset = _get(config.data, "dataset")
    if need_dataset and (not isinstance(dataset, str) or not dataset):
        out.append((ValueError, f"config.data.dataset: expected a dataset name, got {dataset!r}"))
    out += hparams_problems(config.train, "config.train.")
    out += ckpt_problems(config.checkpoint, "config.checkpoint.")
    out += _int(_get(config, "log_every", 10), "config.log_every", 1)
    if _get(config.eval, "split"):
        out += _int(_get(config.eval, "batch_size"), "config.eval.batch_size", 1)
    return out


def raise_problems(problems: list[Problem]) -> None:
    """Raise one error listing every problem: TypeError when all are type problems, else ValueError."""
    if not problems:
        return
    kind = TypeError if all(k is TypeError for k, _ in problems) else ValueError
    raise kind("; ".join(msg for _, msg in problems))


def check_hparams(hparams: Mapping, ckpt: Mapping, log_every: int = 10) -> None:
    """Raise (before any work) unless the ``train`` group, ``checkpoint`` group and ``log_every`` are valid."""
    raise_problems(hparams_problems(hparams) + ckpt_problems(ckpt) + _int(log_every, "log_every", 1))


def check_train_config(config, *, need_dataset: bool = True) -> None:
    """Raise (before any work) unless the whole ``transel train`` config is valid."""
    raise_problems(train_config_problems(config, need_dataset=need_dataset))
