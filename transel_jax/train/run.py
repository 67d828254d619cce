"""Config-driven training run: dataset + model from the catalogs, train, evaluate, write results.

``run(config, workdir)`` is what ``transel train`` calls. It (1) initialises multi-host jax when
``config.distributed``, (2) loads the dataset split from the catalog (its target subset when
``config.data.target_subset``), (3) builds the model with synchronized BatchNorm, initialises it, and when
``config.train.init_from`` names a source checkpoint copies that backbone in (fine-tuning), (4) trains
with exact resume, and (5) evaluates mIoU on ``config.eval.split``, written by process 0 to
``<workdir>/eval.json`` together with the config and package version that produced it. The whole config
is validated first (:mod:`.validate`), before anything is loaded or compiled.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Callable

import jax
import jax.numpy as jnp
import ml_collections

import transel_jax
from transel_jax.train import distributed, phases, validate
from transel_jax.train.checkpoint import load_variables, make_meta
from transel_jax.train.evaluate import EvalResult, evaluate
from transel_jax.train.init import init_model, transplant_backbone
from transel_jax.train.state import TrainState
from transel_jax.train.trainer import train

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


@dataclasses.dataclass
class RunResult:
    state: TrainState
    eval: EvalResult | None
    workdir: str


def build_model(config, num_classes: int, build: Callable | None = None):
    """``build(config.model.name, num_classes, dtype=..., axis_name="data")``; default models.build."""
    if build is None:
        from transel_jax.models import build
    if config.model.dtype not in DTYPES:
        raise ValueError(f"config.model.dtype: expected one of {sorted(DTYPES)}, got {config.model.dtype!r}")
    return build(config.model.name, num_classes, dtype=DTYPES[config.model.dtype], axis_name="data")


def initial_variables(model, config, info) -> dict:
    """Random init at the dataset's resolution; the backbone of ``config.train.init_from`` when set."""
    with phases.phase("init"):
        variables = init_model(model, tuple(info.resolution), jax.random.PRNGKey(config.train.seed))
    if not config.train.init_from:
        return variables
    with phases.phase("restore"):
        source_variables, meta = load_variables(config.train.init_from)
        if meta["model"] != config.model.name:
            raise ValueError(f"config.train.init_from: {config.train.init_from} holds model "
                             f"{meta['model']!r}, expected model {config.model.name!r} (config.model.name)")
        return transplant_backbone(source_variables, variables, source_name=meta["model"],
                                   target_name=config.model.name)


def _loader_kwargs(config) -> dict:
    return {"data_dir": config.data.data_dir} if config.data.get("data_dir") else {}


def run(config: ml_collections.ConfigDict, workdir: str, *, resume: bool = False, source=None,
        eval_source=None, build: Callable | None = None, info=None) -> RunResult:
    """Train (and evaluate) as ``config`` says; see the module docstring and :mod:`.defaults`.

    ``source``/``eval_source`` replace the catalog's splits (random-access sources); ``build`` replaces
    ``transel_jax.models.build`` (same signature) for models outside the registry; ``info`` replaces the
    catalog's DatasetInfo of ``config.data.dataset`` (e.g. the synthetic suite at another resolution).
    """
    from transel_jax.data import catalog, pipeline

    validate.check_train_config(config, need_dataset=info is None)  # before loading or compiling anything
    distributed.initialize_distributed(config.distributed)
    info = catalog.info(config.data.dataset) if info is None else info
    if source is None:
        source = catalog.load(info.name, config.data.split, **_loader_kwargs(config))
    if config.data.target_subset:
        source = pipeline.target_subset(source, info)
    model = build_model(config, info.num_classes, build)
    variables = initial_variables(model, config, info)
    pid, nproc = distributed.process_index(), distributed.process_count()

    def batches(start_step: int):
        return pipeline.train_batches(source, info, batch_size=config.train.global_batch_size,
                                      seed=config.train.seed, start_step=start_step,
                                      num_steps=config.train.steps - start_step, process_index=pid,
                                      process_count=nproc, augment=config.data.augment)

    meta = make_meta(config.model.name, info.num_classes, config.to_dict(), dataset=info.name)
    state = train(model, variables, batches, hparams=config.train, ckpt=config.checkpoint, workdir=workdir,
                  meta=meta, resume=resume, log_every=config.log_every)
    result = None
    if config.eval.split:
        if eval_source is None:
            eval_source = catalog.load(info.name, config.eval.split, **_loader_kwargs(config))
        batches_ = pipeline.eval_batches(eval_source, info, batch_size=config.eval.batch_size,
                                         process_index=pid, process_count=nproc)
        with phases.phase("eval"):
            result = evaluate(model, state.variables, batches_, num_classes=info.num_classes)
        _write_eval(workdir, result, config, info)
    return RunResult(state=state, eval=result, workdir=workdir)


def _write_eval(workdir: str, result: EvalResult, config, info) -> None:
    if not distributed.is_logging_process():
        return
    record = {"produced_by": f"transel_jax {transel_jax.__version__} transel_jax.train.run.run",
              "dataset": info.name, "split": config.eval.split, "class_names": list(info.class_names[1:]),
              **result.to_json(), "config": config.to_dict()}
    with open(os.path.join(workdir, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
