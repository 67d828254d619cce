"""Stage ``finetune``: fine-tune each target's kept candidates (:mod:`.candidates`), predict once.

For target T and source model s, :func:`transel_jax.transfer.finetune` trains s's backbone with a new
head on T's small training subset into ``finetune/<T>/<s>/``; the fine-tuned model then predicts the
target's test images once: ``test.npz`` holds ``logits`` float16 [T_img, h, w, K] at the model's output
stride (:func:`transel_jax.transfer.predictions.test_logits`) and the record
``record.json`` (written last) its test mIoU. The labels are stored once per target in
``finetune/<T>/test_labels.npz``.

``finetune/`` is the run's store of fine-tuned models: later stages that need a model the stage did not
fine-tune (selection: the selected members and B1 out of the whole pool; influence: its sources and the
generic model, the transfer-gain baseline) call :func:`finetune_one`, which fine-tunes it there on first
use with the same recipe (and returns the stored record after). Those stages run after this one, so a
recomputed ``finetune`` stage recomputes them.
"""
from __future__ import annotations

import os

import numpy as np
from tqdm.auto import tqdm

from transel_jax.run import datasets, hosts, plan, pool
from transel_jax.run.stage import Context, read_json, read_npz, write_json, write_npz


def finetune_config(config, architecture: str):
    """Trainer config of a fine-tune (``transel_jax.train.defaults.finetune_config`` + ``config.targets``)."""
    from transel_jax.train.defaults import finetune_config as defaults

    t = config.targets
    c = defaults()
    c.model.name = architecture
    c.model.dtype = config.model_dtype
    c.data.data_dir = config.data.data_dir
    c.train.update(global_batch_size=t.batch_size, steps=t.steps, base_lr=t.base_lr, schedule=t.schedule,
                   warmup_steps=t.warmup_steps, seed=config.seed, freeze_backbone=t.freeze_backbone)
    c.checkpoint.update(every_steps=t.checkpoint_every or t.steps, keep=1)
    c.eval.split = ""  # evaluated below from the stored test predictions
    c.log_every = max(1, min(20, t.steps))
    return c


def finetune_one(ctx: Context, target: str, source: dict, *, root: tuple[str, ...] = ("finetune",)) -> dict:
    """Fine-tune the model of record ``source`` (its ``checkpoint``) on ``target`` into
    ``<run_dir>/<root...>/<target>/<id>``, predict the test set once; returns a record."""
    from transel_jax.evaluation.miou import miou
    from transel_jax.models import build
    from transel_jax.transfer import finetune
    from transel_jax.transfer.predictions import class_predictions, test_logits

    config = ctx.config
    workdir = ctx.dir(*root, target, source["id"])
    record_path = os.path.join(workdir, "record.json")
    if os.path.isfile(record_path):
        return read_json(record_path)
    info = datasets.info(config, target)
    result = finetune(ctx.path(source["checkpoint"]), target, workdir=workdir,
                      config=finetune_config(config, source["architecture"]), resume=True,
                      source=datasets.split(config, target, "train"), info=info)
    test = datasets.split(config, target, config.data.test_split, config.data.test_images)
    model = build(source["architecture"], info.num_classes)
    logits, labels = test_logits(model, result.state.variables, test, info,
                                 batch_size=config.data.eval_batch_size, desc=f"test {source['id']}")
    write_npz(os.path.join(workdir, "test.npz"), logits=logits)
    labels_path = ctx.path(*root, target, "test_labels.npz")
    if not os.path.isfile(labels_path):
        write_npz(labels_path, labels=labels)
    predicted = class_predictions(logits, labels.shape[1:3])
    record = {"target": target, "source": source["id"], "test_miou": miou(labels, predicted, info.num_classes),
              "test_images": int(labels.shape[0])}
    write_json(record_path, record)
    return record


def pool_record(ctx: Context, source_id: str) -> dict:
    """The pool record of any trained pool model (candidate or generic) by id."""
    return read_json(ctx.path("pool", source_id, "record.json"))


def run_finetunes(ctx: Context) -> dict:
    from transel_jax.run import candidates

    kept = candidates.load(ctx)
    records = {s["id"]: s for s in pool.sources(ctx)}
    jobs = [(t, records[i]) for t in plan.check_targets(ctx.config) for i in kept[t]]
    with tqdm(total=len(hosts.share(jobs)), desc="fine-tunes", unit="model") as bar:
        # several hosts: each fine-tunes its share, then all read
        tuned = hosts.each(lambda job: finetune_one(ctx, *job), jobs, "finetune", bar=bar)
    values = [r["test_miou"] for r in tuned]
    return {"targets": len(kept), "finetunes": len(jobs), "test_miou_min": min(values),
            "test_miou_max": max(values)}


def line(summary: dict) -> str:
    return (f"{summary['finetunes']} fine-tunes on {summary['targets']} targets; test mIoU "
            f"{summary['test_miou_min']:.3f}..{summary['test_miou_max']:.3f}")


def load_record(ctx: Context, target: str, source_id: str) -> dict:
    """The record (test mIoU) of a finished fine-tune."""
    return read_json(ctx.path("finetune", target, source_id, "record.json"))


def load_logits(ctx: Context, target: str, source_id: str) -> np.ndarray:
    return read_npz(ctx.path("finetune", target, source_id, "test.npz"))["logits"]


def load_labels(ctx: Context, target: str) -> np.ndarray:
    return read_npz(ctx.path("finetune", target, "test_labels.npz"))["labels"]
