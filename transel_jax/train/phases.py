"""Wall-clock seconds spent per phase of training runs, for finding per-model overhead.

The trainer, :func:`transel_jax.train.run.run` and the test-set prediction wrap their phases in
``with phase(name):``; the times add up in one process-wide table that :func:`totals` reads and
:func:`reset` clears (``benchmarks/run_overhead.py`` prints it per model). Phases of the main thread only;
nested phases are counted in both. Recording is a ``perf_counter`` pair, so it is always on.

Phase names used: ``init`` (random model init), ``restore`` (source checkpoint read and backbone
transplant), ``state`` (optimiser state, replication, checkpoint manager, resume), ``compile`` (the first
call of the train step: trace, lower, compile or compilation-cache load), ``steps`` (the other steps and
their metric summaries), ``data`` (waiting for the next training batch), ``checkpoint`` (saves), ``eval``
(evaluation, its compile included), ``predict`` (test-set logits).
"""
from __future__ import annotations

import collections
import contextlib
import time
from typing import Iterator

_SECONDS: collections.Counter = collections.Counter()


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the wall-clock time of the ``with`` block to phase ``name``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _SECONDS[name] += time.perf_counter() - start


def add(name: str, seconds: float) -> None:
    """Add ``seconds`` to phase ``name`` (for times measured by the caller)."""
    _SECONDS[name] += seconds


def totals() -> dict[str, float]:
    """{phase name: seconds} accumulated since the last :func:`reset`."""
    return dict(_SECONDS)


def reset() -> None:
    _SECONDS.clear()
