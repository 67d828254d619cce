"""A source model as in the papers: HRNetV2-W48, batch 32 over all devices, step decay at 2/3, sync BN.

Pick the dataset, steps and learning rate per source (papers/002 App. A tunes them per dataset):
transel train --config configs/train_source.py --workdir runs/w48_cityscapes \
    --config.data.dataset=cityscapes --config.data.data_dir=/data/tfds --config.train.steps=40000
"""
from transel_jax.train.defaults import source_config


def get_config():
    c = source_config()
    c.model.name = "hrnetv2_w48"
    c.model.dtype = "bfloat16"  # bfloat16 compute, float32 master weights
    c.data.dataset = "cityscapes"
    c.train.global_batch_size = 32
    c.train.steps = 40000
    c.train.base_lr = 0.01
    c.train.schedule = "step"
    c.checkpoint.every_steps = 2000
    return c
