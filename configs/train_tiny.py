"""A source model in minutes on a CPU: hrnetv2_tiny on a synthetic driving dataset.

transel train --config configs/train_tiny.py --workdir runs/tiny_drive_day
"""
from transel_jax.train.defaults import source_config


def get_config():
    c = source_config()
    c.model.name = "hrnetv2_tiny"
    c.data.dataset = "syn_drive_day"
    c.train.global_batch_size = 8
    c.train.steps = 300
    c.train.base_lr = 0.05
    c.train.warmup_steps = 10
    c.checkpoint.every_steps = 100
    c.eval.batch_size = 8
    c.log_every = 10
    return c
