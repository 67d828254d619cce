"""The training loop: feed batches to the step, log, checkpoint, resume.

Resuming is exact because everything a step depends on is a function of the step number: the data
iterator is re-created with ``batches(start_step)`` (the pipeline yields for ``start_step = k`` exactly
the batches a fresh run yields from step k on), and the per-step RNG is folded from the state's base key
and its step counter, both restored from the checkpoint.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Iterator

import jax
import numpy as np
from jax.sharding import Mesh

from transel_jax.train import distributed, phases
from transel_jax.train.checkpoint import Checkpointer
from transel_jax.train.metrics_log import MetricsWriter
from transel_jax.train.progress import progress
from transel_jax.train.state import TrainState

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
    (which shows the ETA); the checkpointer saves on its interval and at the last step.
    """
    start = int(state.step)
    if start > options.num_steps:
        raise ValueError(f"state.step: expected at most num_steps={options.num_steps}, got {start}")
    state = distributed.replicate(state, mesh)
    bar = progress(total=options.num_steps, initial=start, desc=options.desc, unit="step", dynamic_ncols=True)
    pending, t0, steps_since = [], time.perf_counter(), 0
    stream = iter(batches(start))
    for step in range(start, options.num_steps):
        with phases.phase("data"):
            batch = next(stream, None)
        if batch is None:
            break
        # the first call traces and compiles (or loads the compiled step); later calls only dispatch
        with phases.phase("compile" if step == start else "steps"):
            state, metrics = step_fn(state, distributed.shard_batch(batch, mesh))
        pending.append(metrics)
        steps_since += 1
        done = step + 1
        if done % options.log_every == 0 or done == options.num_steps:
            with phases.phase("steps"):  # fetching the metrics waits for the steps dispatched so far
                record = _summarise(pending, steps_since * options.global_batch_size,
                                    time.perf_counter() - t0)
            # shown at the bar's next refresh: forcing one here would add a line per log interval to a log file
            bar.set_postfix(loss=f"{record['loss']:.4f}", img_s=f"{record['images_per_s']:.1f}", refresh=False)
            if writer is not None:
                writer.write(done, record)
            pending, t0, steps_since = [], time.perf_counter(), 0
        bar.update(1)
        if checkpointer is not None:
            with phases.phase("checkpoint"):
                checkpointer.save(done, state, meta or {}, force=done == options.num_steps)
    bar.close()
    if int(state.step) != options.num_steps:
        raise ValueError(f"batches: the iterator ended at step {int(state.step)}, expected "
                         f"{options.num_steps} steps")
    return state


def _summarise(metrics: list[dict], images: int, seconds: float) -> dict:
    fetched = jax.device_get(metrics)
    record = {k: float(np.mean([m[k] for m in fetched])) for k in fetched[0]}
    record["images_per_s"] = images / max(seconds, 1e-9)
    return record
