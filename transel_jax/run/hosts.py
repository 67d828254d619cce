"""The hosts of a multi-host ``transel run``: who does which work item, and where they meet.

``transel run --distributed`` runs the same program on every host (one process per host; ``launch/tpu_pod.sh
run``, ``launch/multi_gpu.sh run``, ``launch/local_multiprocess.sh NPROC run``). The processes join
jax.distributed's coordination service (:func:`transel_jax.train.distributed.join_job`) but each stays a
one-process jax program on its own devices. Every host walks the same stages with the same decisions
(:mod:`.stage`); a stage that divides its work (pool models, probes, scoring jobs, fine-tunes, ensemble
heads) gives each host the items :func:`share` assigns it, and each host does its items on its own local
devices (the papers trained each model on one host's 8 TPU cores), writing every result atomically into the
shared run directory. The hosts meet at a :func:`barrier` after each such division and between stages; the
cheap stages (candidates, actual, evaluate, report) run once, on the main host (process 0), and the others
read its results. A host that dies leaves its unfinished items without their record; the rerun of the same
command (same or another number of hosts) redoes only those.

With one process (no ``--distributed``) every function here is the single-host identity: :func:`share`
returns every item, :func:`barrier` returns at once.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from transel_jax.train import distributed, memo

T = TypeVar("T")
R = TypeVar("R")
_MEETINGS = itertools.count()


def index() -> int:
    """This host's index, 0 .. :func:`count` - 1."""
    return distributed.job_process_index()


def count() -> int:
    """The number of hosts (processes) of the run."""
    return distributed.job_process_count()


def is_main() -> bool:
    """The host that runs the one-host stages and writes the stage markers."""
    return index() == 0


def share(items: Sequence[T]) -> list[T]:
    """This host's items: every ``count()``-th item from its ``index()`` on (round robin in plan order, so
    the hosts get near-equal numbers of models of each architecture, and every host computes the same
    division without talking). A pure function of the item list and the host: a rerun assigns the same."""
    return list(items)[index()::count()]


def barrier(name: str) -> None:
    """Every host waits here until all have arrived (:func:`transel_jax.train.distributed.barrier`).

    Every host must call the barriers in the same order: the meeting's id is ``name`` plus a per-process
    counter, so a host that skipped one fails loudly at the next instead of meeting the wrong one."""
    if count() > 1:
        distributed.barrier(f"run:{next(_MEETINGS)}:{name}")


def each(fn: Callable[[T], R], items: Iterable[T], name: str, bar=None) -> list[R]:
    """``[fn(x) for x in items]`` with the work divided among the hosts.

    Each host calls ``fn`` on its :func:`share`, then all meet at a barrier, then every host calls ``fn`` on
    every item again and gets the result its owner stored. ``fn`` must therefore be idempotent and cheap
    once done (it returns the stored record of a finished item, as ``pool.train_one`` and
    ``finetunes.finetune_one`` do). ``bar`` (a tqdm bar, optional) advances once per item of this host's
    share (size it with ``len(share(items))``), not on the read-back of the others' items.
    """
    items = list(items)
    results = []
    for x in share(items):
        results.append(relieved(fn, x))
        if bar is not None:
            bar.update()
    if count() == 1:
        return results
    barrier(name)
    return [fn(x) for x in items]


def relieved(fn: Callable[..., R], *args) -> R:
    """``fn(*args)``, first dropping jax's compiled programs if this process nears the kernel's memory-map
    limit (:func:`transel_jax.train.memo.relieve`: a long run would otherwise die in LLVM)."""
    memo.relieve()
    return fn(*args)
