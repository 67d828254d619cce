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


# ------------------------------------------------------------------ compiled code and the mmap limit
# Every compiled XLA CPU program keeps its machine code in memory maps (code, read-only data and data
# sections: about 7 per small program here). A long ``transel run`` compiles thousands (every architecture x class
# count x shape, for training, evaluation, prediction, heads) and keeps them all, and Linux refuses new
# maps past ``vm.max_map_count`` (65530 by default): LLVM then fails with "Cannot allocate memory" and the
# process dies (seen in the selection stage of configs/study.py, after about 400 trainings). :func:`relieve`
# drops jax's in-memory caches before that; the next call of a dropped program recompiles it, or loads it
# from the persistent compilation cache when one is set (``transel run`` sets one per run directory).
MAPS_FRACTION = 0.5  # relieve() clears the caches above this share of the limit


def map_count() -> int | None:
    """The number of memory maps of this process (Linux), None where /proc is not available."""
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def map_limit() -> int:
    """The kernel's per-process map limit (``vm.max_map_count``; 65530 when it cannot be read)."""
    try:
        with open("/proc/sys/vm/max_map_count", encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 65530


def relieve(fraction: float = MAPS_FRACTION) -> bool:
    """``jax.clear_caches()`` when this process holds more than ``fraction`` of the map limit; True when it
    cleared. It frees the compiled programs of every jitted function, the memoised ones included (they
    stay valid and compile again when called). Cheap to call between work items (one read of /proc)."""
    count = map_count()
    if count is None or count <= fraction * map_limit():
        return False
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
    return True
