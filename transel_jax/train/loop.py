"""The training loop: feed batches to the step, log, checkpoint, resume.

Resuming is exact because everything a step depends on is a function of the step number: the data
iterator is re-created with ``batches(start_step)`` (the pipeline yields for ``start_step = k`` exactly
the batches a fresh run yields from step k on), and the per-step RNG is folded from the state's base key
and its step counter, both restored from the checkpoint.

Divergence: the loss and gradient norm of every step are checked on the host (one step behind the
device, so dispatch still overlaps; before every checkpoint save, without lag). At the first non-finite
one the loop stops with :class:`NonFiniteLossError`, naming the step and the last good checkpoint; a
non-finite state is never saved (the checkpointer refuses it too).
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Iterator

import jax
import numpy as np
from jax.sharding import Mesh

from transel_jax.train import distributed, phases
from transel_jax.train.checkpoint import Checkpointer, NonFiniteStateError
from transel_jax.train.metrics_log import MetricsWriter
from transel_jax.train.progress import progress
from transel_jax.train.state import TrainState

class NonFiniteLossError(FloatingPointError):
    """Training produced a non-finite loss or gradient norm (the message names the step)."""


BatchFactory = Callable[[int], Iterator[dict]]  # start_step -> host-local batches from that step on


@dataclasses.dataclass
class LoopOptions:
    num_steps: int                    # total steps of the run (not of this call)
    global_batch_size: int
    log_every: int = 10
    desc: str = "train"


def fit(step_fn: Callable, state: TrainState, batches: BatchFactory, mesh: Mesh, options: LoopOptions, *,
        checkpointer: Checkpointer | None = None, meta: dict | None = None,
        writer: MetricsWriter | None = None) -> TrainState:
    """Run ``step_fn`` from ``state.step`` to ``options.num_steps``; returns the final (replicated) state.

    Every ``options.log_every`` steps the mean loss since the last log and the throughput (images/s over
    the interval; the first interval includes compilation) are written to ``writer`` and the progress bar
    (which shows the ETA); the checkpointer saves on its interval and at the last step. Raises
    :class:`NonFiniteLossError` at the first step with a non-finite loss or gradient norm (module docstring).
    """
    start = int(state.step)
    if start > options.num_steps:
        raise ValueError(f"state.step: expected at most num_steps={options.num_steps}, got {start}")
    state = distributed.replicate(state, mesh)
    bar = progress(total=options.num_steps, initial=start, desc=options.desc, unit="step", dynamic_ncols=True)
    pending, t0 = [], time.perf_counter()
    unchecked = None  # (step, metrics) of the previous step, not yet checked for finiteness
    stream = iter(batches(start))
    try:
        for step in range(start, options.num_steps):
            with phases.phase("data"):
                batch = next(stream, None)
            if batch is None:
                break
            # the first call traces and compiles (or loads the compiled step); later calls only dispatch
            with phases.phase("compile" if step == start else "steps"):
                state, metrics = step_fn(state, distributed.shard_batch(batch, mesh))
            if unchecked is not None:  # the previous step, finished or nearly: little waiting
                _check_finite(*unchecked, checkpointer)
            done, unchecked = step + 1, (step + 1, metrics)
            pending.append(metrics)
            logging = done % options.log_every == 0 or done == options.num_steps
            saving = checkpointer is not None and checkpointer.will_save(done, force=done == options.num_steps)
            if logging or saving:  # nothing non-finite is logged as a result or saved
                _check_finite(*unchecked, checkpointer)
                unchecked = None
            if logging:
                with phases.phase("steps"):  # fetching the metrics waits for the steps dispatched so far
                    record = _summarise(pending, len(pending) * options.global_batch_size,
                                        time.perf_counter() - t0)
                # shown at the bar's next refresh: forcing one here would add a line per log interval
                bar.set_postfix(loss=f"{record['loss']:.4f}", img_s=f"{record['images_per_s']:.1f}",
                                refresh=False)
                if writer is not None:
                    writer.write(done, record)
                pending, t0 = [], time.perf_counter()
            bar.update(1)
            if saving:
                with phases.phase("checkpoint"):
                    _save(checkpointer, done, state, meta or {})
        if unchecked is not None:
            _check_finite(*unchecked, checkpointer)
    finally:
        bar.close()
    if int(state.step) != options.num_steps:
        raise ValueError(f"batches: the iterator ended at step {int(state.step)}, expected "
                         f"{options.num_steps} steps")
    return state


def _last_good(checkpointer: Checkpointer | None) -> str:
    steps = checkpointer.steps() if checkpointer is not None else []
    if not steps:
        return "no checkpoint was written before it"
    return (f"the last good checkpoint is step {steps[-1]} in {checkpointer.directory} (--resume continues "
            "from it; lower the learning rate or check the data first)")


def _check_finite(step: int, metrics: dict, checkpointer: Checkpointer | None) -> None:
    """NonFiniteLossError naming ``step`` (counted from 1) unless its loss and gradient norm are finite."""
    fetched = jax.device_get(metrics)
    values = {k: float(fetched[k]) for k in ("loss", "grad_norm") if k in fetched}
    bad = ", ".join(f"{k} = {v}" for k, v in values.items() if not np.isfinite(v))
    if bad:
        raise NonFiniteLossError(f"training diverged at step {step}: non-finite {bad}; "
                                 f"{_last_good(checkpointer)}")


def _save(checkpointer: Checkpointer, step: int, state: TrainState, meta: dict) -> None:
    try:
        checkpointer.save(step, state, meta, force=True)
    except NonFiniteStateError as err:  # finite loss, but the update itself overflowed
        raise NonFiniteLossError(f"training diverged at step {step}: {err}; {_last_good(checkpointer)}") from None


def _summarise(metrics: list[dict], images: int, seconds: float) -> dict:
    fetched = jax.device_get(metrics)
    record = {k: float(np.mean([m[k] for m in fetched])) for k in fetched[0]}
    record["images_per_s"] = images / max(seconds, 1e-9)
    return record
