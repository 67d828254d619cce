"""A tiny segmenter following the models interface, and a tiny synthetic segmentation task, for tests.

Model: conv3x3-BN-relu, conv3x3/2-BN-relu backbone (features at H/2), 1x1 conv head, bilinear upsample.
Variables {"params": {"backbone", "head"}, "batch_stats": {"backbone"}} as the real models have.

Task: 16x16 images made of 4x4 blocks; each block has a class 1..K whose colour (a fixed RGB per class)
plus Gaussian noise fills it; a fraction of blocks is void (label 0, random colour). Every batch is a pure
function of (seed, step), as the data pipeline guarantees.
"""
from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


class TinyBackbone(nn.Module):
    width: int = 8
    axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x, train: bool = False):
        norm = functools.partial(nn.BatchNorm, use_running_average=not train, momentum=0.9,
                                 axis_name=self.axis_name, dtype=self.dtype)
        x = nn.relu(norm()(nn.Conv(self.width, (3, 3), dtype=self.dtype)(x)))
        x = nn.relu(norm()(nn.Conv(self.width, (3, 3), strides=2, dtype=self.dtype)(x)))
        return x


class TinySegmenter(nn.Module):
    num_classes: int
    width: int = 8
    axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, images, train: bool = False, return_features: bool = False, upsample: bool = True):
        feats = TinyBackbone(self.width, self.axis_name, self.dtype, name="backbone")(
            images.astype(self.dtype), train)
        logits = nn.Conv(self.num_classes, (1, 1), dtype=self.dtype, name="head")(feats).astype(jnp.float32)
        b, h, w, _ = images.shape
        if upsample:  # upsample=False: at the backbone's stride, as the segmenters' stored test logits
            logits = jax.image.resize(logits, (b, h, w, self.num_classes), "bilinear")
        return (logits, feats.astype(jnp.float32)) if return_features else logits


def tiny_build(name, num_classes, *, dtype, axis_name):
    """A ``build`` for ``transel_jax.train.run.run`` / ``finetune`` (``config.model.name = "tiny_test"``):
    the trainer's mechanics on a model that compiles in about a second (resnet_tiny: 5-8 s)."""
    assert name == "tiny_test"
    return TinySegmenter(num_classes, axis_name=axis_name, dtype=dtype)


COLOURS = np.array([[1.5, -1, -1], [-1, 1.5, -1], [-1, -1, 1.5], [1, 1, -1.5], [-1.5, 1, 1], [1, -1.5, 1]])


def block_batch(seed: int, step: int, batch_size: int, num_classes: int = 4, size: int = 16,
                void_fraction: float = 0.15, noise: float = 0.6) -> dict:
    """{"image": float32 [B, size, size, 3], "label": int32 [B, size, size]} of the block task."""
    rng = np.random.default_rng([seed, step])
    blocks = size // 4
    labels = rng.integers(1, num_classes + 1, size=(batch_size, blocks, blocks))
    labels[rng.random(labels.shape) < void_fraction] = 0
    colours = np.concatenate([rng.normal(size=(1, 3)), COLOURS[:num_classes]])
    labels = labels.repeat(4, 1).repeat(4, 2)
    images = colours[labels] + noise * rng.normal(size=labels.shape + (3,))
    return {"image": images.astype(np.float32), "label": labels.astype(np.int32)}


def block_batches(seed: int, batch_size: int, **kw):
    """``start_step -> iterator`` of block batches, deterministic in (seed, step)."""
    def factory(start_step: int):
        step = start_step
        while True:
            yield block_batch(seed, step, batch_size, **kw)
            step += 1
    return factory
