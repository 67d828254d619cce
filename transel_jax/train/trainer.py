"""One entry point for the three training jobs: a model, its initial variables, batches, hyper-parameters.

``train`` builds the optimiser and the SPMD step, restores the newest checkpoint when resuming, runs the
loop and returns the final state. Source training starts from the model's random init; fine-tuning from
variables whose backbone was copied from a source model (:mod:`transel_jax.transfer.finetune`).

Hyper-parameters (``hparams``, the ``train`` group of a config, see ``configs/train_tiny.py``):
global_batch_size, steps, base_lr, schedule ("step" | "poly" | "constant"), warmup_steps, momentum,
weight_decay, seed, class_weights (None or a list of K floats), freeze_backbone. Checkpoint options
(``ckpt``): every_steps, keep. All are validated (:mod:`transel_jax.train.validate`) before anything is
built or compiled.

A resumed run truncates ``metrics.jsonl`` to the rows up to the step it resumes from, so the steps it
redoes are logged once, not twice. Training stops at the first non-finite loss or gradient norm
(:class:`transel_jax.train.loop.NonFiniteLossError`, naming the step and the last good checkpoint).
"""
from __future__ import annotations

import os
from typing import Mapping

import jax
from jax.sharding import Mesh

from transel_jax.train import distributed, phases, validate
from transel_jax.train.checkpoint import Checkpointer
from transel_jax.train.loop import BatchFactory, LoopOptions, fit
from transel_jax.train.metrics_log import MetricsWriter
from transel_jax.train.optim import make_optimizer
from transel_jax.train.schedules import make_schedule
from transel_jax.train.state import TrainState, create_state
from transel_jax.train.step import make_train_step


def train(model, variables: dict, batches: BatchFactory, *, hparams: Mapping, ckpt: Mapping, workdir: str,
          meta: dict, resume: bool = False, log_every: int = 10, mesh: Mesh | None = None) -> TrainState:
    """Train ``model`` from ``variables`` for ``hparams["steps"]`` steps; returns the final state.

    Args:
      model: flax module following the models interface (build it with ``axis_name="data"``).
      variables: initial ``{"params": {"backbone", "head"}, "batch_stats": ...}``.
      batches: ``start_step -> iterator`` of host-local numpy batches ``{"image", "label"}`` of
        ``global_batch_size // process_count`` examples, deterministic in the step (pipeline.train_batches).
      hparams, ckpt: see the module docstring.
      workdir: run directory: ``metrics.jsonl`` and ``checkpoints/`` go here.
      meta: what checkpoints record (:func:`transel_jax.train.checkpoint.make_meta`); its "model" and
        "num_classes" are checked against a checkpoint when resuming.
      resume: continue from the newest readable checkpoint in ``workdir`` (a fresh start if none). Without
        it, a ``workdir`` that already holds checkpoints is refused rather than silently mixed.
    """
    validate.check_hparams(hparams, ckpt, log_every)
    mesh = distributed.make_mesh() if mesh is None else mesh
    batch_size, steps = int(hparams["global_batch_size"]), int(hparams["steps"])
    distributed.check_batch_divides(batch_size, mesh)  # before anything compiles
    class_weights = hparams.get("class_weights")
    if class_weights is not None and len(class_weights) != meta["num_classes"]:
        raise ValueError(f"class_weights: expected {meta['num_classes']} weights (one per class), "
                         f"got {len(class_weights)}")
    freeze = bool(hparams.get("freeze_backbone", False))
    schedule = make_schedule(hparams["schedule"], hparams["base_lr"], steps, hparams.get("warmup_steps", 0))
    tx = make_optimizer(schedule, momentum=hparams.get("momentum", 0.9),
                        weight_decay=hparams.get("weight_decay", 0.0), freeze_backbone=freeze)
    with phases.phase("state"):
        # replicated before restoring, so a restore lands directly on the mesh's devices
        state = distributed.replicate(create_state(variables, tx, jax.random.PRNGKey(hparams.get("seed", 0))),
                                      mesh)
        checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), every_steps=ckpt["every_steps"],
                                    keep=ckpt["keep"])
        state = _maybe_resume(checkpointer, state, meta, resume)
    step_fn = make_train_step(model, tx, mesh, global_batch_size=batch_size,
                              class_weights=class_weights, freeze_backbone=freeze)
    writer = MetricsWriter(workdir, config=meta.get("config"), start_step=int(state.step))
    try:
        return fit(step_fn, state, batches, mesh,
                   LoopOptions(num_steps=steps, global_batch_size=batch_size, log_every=log_every,
                               desc=f"train {os.path.basename(os.path.normpath(workdir))}"),
                   checkpointer=checkpointer, meta=meta, writer=writer)
    finally:
        writer.close()
        with phases.phase("checkpoint"):  # waits for a save still being written
            checkpointer.close()


def _maybe_resume(checkpointer: Checkpointer, state: TrainState, meta: dict, resume: bool) -> TrainState:
    if not resume:
        if checkpointer.steps():
            raise ValueError(f"workdir: {checkpointer.directory} already holds checkpoints "
                             f"{checkpointer.steps()}; pass resume=True (--resume) or use a fresh workdir")
        return state
    found = checkpointer.restore_latest(state, model_name=meta["model"], num_classes=meta["num_classes"])
    return state if found is None else found[0]
