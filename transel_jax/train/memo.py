"""Memoised builders of jitted functions keyed on flax modules.

jax caches traces and compiled code per *function object*; a function rebuilt per model (a new closure or
``functools.partial``) is traced and compiled again even when the model is the same. Flax modules are
dataclasses that compare and hash by value, so a builder memoised with :func:`functools.lru_cache` on
(module, static settings) returns the one function every model of that architecture and class count
shares. :func:`call` falls back to an uncached build when an argument is unhashable (e.g. a module with
a list field).
"""
from __future__ import annotations

from typing import Callable


def hashable(args: tuple) -> bool:
    try:
        hash(args)
    except TypeError:
        return False
    return True


def call(builder: Callable, *args):
    """``builder(*args)`` through its ``lru_cache`` when ``args`` hash, else the uncached builder."""
    return builder(*args) if hashable(args) else builder.__wrapped__(*args)
