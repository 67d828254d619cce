"""Stage ``pool``: train the generic models and every candidate source model (:mod:`.plan`).

Each model trains with the project's trainer (:func:`transel_jax.train.run.run`) into
``pool/<id>/`` (checkpoints, metrics.jsonl, eval.json) and is evaluated on its dataset's test split. The
record ``pool/<id>/record.json`` (written last, so a model with one is finished) holds what BASE and the
single-model studies need: dataset, domain, architecture, init, depth, parameters, number of source
training images and classes, source test mIoU. ``pool/sources.json`` lists the candidates' records in
pool order.
"""
from __future__ import annotations

import functools
import os

from tqdm.auto import tqdm

from transel_jax.run import datasets, hosts, plan
from transel_jax.run.stage import Context, read_json, write_json


def training_config(config, spec: plan.SourceSpec, init_from: str = ""):
    """The trainer config of one pool model (``transel_jax.train.defaults.source_config`` + ``config.pool``)."""
    from transel_jax.train.defaults import source_config

    pool = config.pool
    c = source_config()
    c.model.name = spec.architecture
    c.model.dtype = config.model_dtype
    c.data.dataset = spec.dataset
    c.data.data_dir = config.data.data_dir
    steps = pool.generic_steps if spec.init == plan.PRETRAIN else pool.steps
    c.train.update(global_batch_size=pool.batch_size, steps=steps, base_lr=pool.base_lr, schedule=pool.schedule,
                   warmup_steps=pool.warmup_steps, seed=config.seed, init_from=init_from)
    c.checkpoint.update(every_steps=pool.checkpoint_every or steps, keep=1)
    c.eval.update(split=config.data.test_split, batch_size=config.data.eval_batch_size)
    c.log_every = max(1, min(20, steps))
    return c


@functools.lru_cache(maxsize=None)
def model_size(architecture: str, num_classes: int, resolution: tuple[int, int]) -> tuple[int, int]:
    """(depth, params) of a model (:func:`transel_jax.models.describe`, traced once per argument set)."""
    from transel_jax.models import describe

    size = describe(architecture, num_classes, input_size=resolution)
    return size["depth"], size["params"]


def train_one(ctx: Context, spec: plan.SourceSpec, init_from: str = "", *, root: tuple[str, ...] = ("pool",)
              ) -> dict:
    """Train (or resume, or find finished) one model into ``<run_dir>/<root...>/<id>``; returns its record."""
    from transel_jax.train import run

    config = ctx.config
    workdir = ctx.dir(*root, spec.id)
    record_path = os.path.join(workdir, "record.json")
    if os.path.isfile(record_path):
        return read_json(record_path)
    info = datasets.info(config, spec.dataset)
    result = run.run(training_config(config, spec, init_from), workdir, resume=True,
                     source=datasets.split(config, spec.dataset, "train"),
                     eval_source=datasets.split(config, spec.dataset, config.data.test_split,
                                                config.data.test_images),
                     info=info)
    depth, params = model_size(spec.architecture, info.num_classes, tuple(info.resolution))
    record = {"id": spec.id, "dataset": spec.dataset, "domain": info.domain, "architecture": spec.architecture,
              "init": spec.init, "depth": depth, "params": params,
              "num_images": datasets.train_images(config, spec.dataset), "num_classes": info.num_classes,
              "test_miou": result.eval.miou, "checkpoint": os.path.join(*root, spec.id, "checkpoints")}
    write_json(record_path, record)
    return record


def checkpoint(ctx: Context, source_id: str) -> str:
    return ctx.path("pool", source_id, "checkpoints")


def run_pool(ctx: Context) -> dict:
    pool = ctx.config.pool
    pretrain = plan.pretrain_specs(pool)
    candidates = plan.candidate_specs(pool)
    generic = {s.architecture: checkpoint(ctx, s.id) for s in pretrain}

    def train(spec: plan.SourceSpec) -> dict:
        return train_one(ctx, spec, generic[spec.architecture] if spec.init == "generic" else "")

    # several hosts: the generic models first (the generic-initialised candidates start from them), each
    # host training its share; then the candidates likewise (hosts.each)
    with tqdm(total=len(hosts.share(pretrain)) + len(hosts.share(candidates)), desc="source pool",
              unit="model") as bar:
        hosts.each(train, pretrain, "pool: generic models", bar=bar)
        records = hosts.each(train, candidates, "pool: candidates", bar=bar)
    if hosts.is_main():
        write_json(ctx.path("pool", "sources.json"), records)
    mious = [r["test_miou"] for r in records]
    return {"sources": len(records), "generic_models": len(pretrain),
            "test_miou_min": min(mious), "test_miou_max": max(mious)}


def line(summary: dict) -> str:
    return (f"{summary['sources']} source models + {summary['generic_models']} generic; source test mIoU "
            f"{summary['test_miou_min']:.3f}..{summary['test_miou_max']:.3f}")


def sources(ctx: Context) -> list[dict]:
    """The candidates' records, in pool order."""
    return read_json(ctx.path("pool", "sources.json"))
