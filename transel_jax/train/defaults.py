"""Default run configs. ``configs/train_*.py`` start from these; every field is overridable with
``--config.group.field=value``.

Groups: ``model`` (name, dtype: "float32" | "bfloat16" compute, float32 master weights always),
``data`` (dataset, split, target_subset, augment, data_dir), ``train`` (see
:mod:`transel_jax.train.trainer`; ``init_from``: a source checkpoint directory to fine-tune from, "" to
train from scratch), ``checkpoint`` (every_steps, keep), ``eval`` (split, "" to skip; batch_size),
``log_every``, ``distributed`` (call ``jax.distributed.initialize()`` first: multi-host).
"""
from __future__ import annotations

import ml_collections


def source_config() -> ml_collections.ConfigDict:
    """Source-model training as in the papers: batch 32, SGD momentum 0.9, step decay x0.1 at 2/3."""
    c = ml_collections.ConfigDict()
    c.model = ml_collections.ConfigDict({"name": "hrnetv2_w18", "dtype": "float32"})
    c.data = ml_collections.ConfigDict({"dataset": "", "split": "train", "target_subset": False,
                                        "augment": True, "data_dir": ""})
    c.train = ml_collections.ConfigDict({
        "global_batch_size": 32, "steps": 10000, "base_lr": 0.01, "schedule": "step", "warmup_steps": 0,
        "momentum": 0.9, "weight_decay": 1e-4, "seed": 0, "class_weights": None,
        "freeze_backbone": False, "init_from": ""})
    c.checkpoint = ml_collections.ConfigDict({"every_steps": 1000, "keep": 3})
    c.eval = ml_collections.ConfigDict({"split": "validation", "batch_size": 8})
    c.log_every = 20
    c.distributed = False
    return c


def finetune_config() -> ml_collections.ConfigDict:
    """Small-target fine-tuning: the target's training subset, fewer steps (papers/002 Sec. 4)."""
    c = source_config()
    c.data.target_subset = True
    c.train.steps = 2000
    c.train.schedule = "poly"
    c.checkpoint.every_steps = 500
    return c
