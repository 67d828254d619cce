"""Learning-rate schedules of the papers: step decay and poly, with an optional linear warmup.

Each returns an optax-style schedule ``lr(step)`` (a pure function of the int step count):

- ``step``: ``base_lr`` until ``floor(2/3 * total_steps)``, then ``0.1 * base_lr``.
- ``poly``: ``base_lr * (1 - min(step, total_steps) / total_steps) ** 0.9``.
- warmup (``warmup_steps = W > 0``): ``base_lr * (step + 1) / W`` for ``step < W``, the schedule after
  (evaluated at the true step, not shifted by W).
"""
from __future__ import annotations

import functools
from typing import Callable

import jax.numpy as jnp

from transel_jax import checks

Schedule = Callable[[int], float]
KINDS = ("step", "poly", "constant")


def step_decay(base_lr: float, total_steps: int, factor: float = 0.1, at: float = 2 / 3) -> Schedule:
    boundary = int(at * total_steps)
    return lambda step: jnp.where(step >= boundary, base_lr * factor, base_lr)


def poly(base_lr: float, total_steps: int, power: float = 0.9) -> Schedule:
    def schedule(step):
        frac = jnp.minimum(step, total_steps) / total_steps
        return base_lr * (1.0 - frac) ** power
    return schedule


def constant(base_lr: float) -> Schedule:
    return lambda step: jnp.full((), base_lr, jnp.float32)


def with_warmup(schedule: Schedule, base_lr: float, warmup_steps: int) -> Schedule:
    if warmup_steps <= 0:
        return schedule
    return lambda step: jnp.where(step < warmup_steps, base_lr * (step + 1) / warmup_steps, schedule(step))


@functools.lru_cache(maxsize=256, typed=True)
def make_schedule(kind: str, base_lr: float, total_steps: int, warmup_steps: int = 0) -> Schedule:
    """The schedule named ``kind`` (one of :data:`KINDS`) with optional warmup (module docstring).

    Memoised: equal arguments return the same function, so optimisers built from it are the same object
    too and the train steps of runs with one recipe share their compiled code (:mod:`.step`).
    """
    checks.check_choice(kind, "schedule", KINDS)
    checks.check_positive_int(total_steps, "total_steps")
    checks.check_positive_int(warmup_steps, "warmup_steps", minimum=0)
    if not base_lr > 0:
        raise ValueError(f"base_lr: expected a positive learning rate, got {base_lr}")
    base = {"step": lambda: step_decay(base_lr, total_steps),
            "poly": lambda: poly(base_lr, total_steps),
            "constant": lambda: constant(base_lr)}[kind]()
    return with_warmup(base, base_lr, warmup_steps)
