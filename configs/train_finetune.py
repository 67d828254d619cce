"""Fine-tune a source model on a small target: its backbone, a new head, the 150-image target subset.

transel train --config configs/train_finetune.py --workdir runs/ft_camvid_from_cityscapes \
    --config.train.init_from=runs/w48_cityscapes/checkpoints --config.model.name=hrnetv2_w48 \
    --config.data.dataset=camvid
(``transel_jax.transfer.finetune`` sets model.name from the checkpoint for you.)
"""
from transel_jax.train.defaults import finetune_config


def get_config():
    c = finetune_config()
    c.model.name = "hrnetv2_tiny"
    c.data.dataset = "syn_drive_small"
    c.train.global_batch_size = 8
    c.train.steps = 200
    c.train.base_lr = 0.02
    c.checkpoint.every_steps = 100
    c.log_every = 10
    return c
