"""Backbone + linear head + bilinear upsampling: the segmentation model every source and target uses."""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from transel_jax.checks import check_positive_int, check_rank
from transel_jax.models.heads import SegmentationHead
from transel_jax.models.layers import resize_bilinear


class Segmenter(nn.Module):
    """images float [B, H, W, 3] (normalised) -> logits float32 [B, H, W, num_classes].

    ``logits = upsample_bilinear(head(backbone(images)))``; logit channel ``c`` is dataset label ``c + 1``.
    With ``return_features=True`` also returns the backbone feature map float32 [B, h, w, D] (``h =
    ceil(H / output_stride)``). Outputs are float32 whatever the compute ``dtype``.

    Variables: ``{"params": {"backbone", "head"}, "batch_stats": {"backbone"}}``. With ``train=True`` the
    BatchNorm layers normalise with batch statistics and update ``batch_stats`` (pass
    ``mutable=["batch_stats"]``); with ``train=False`` they use the running averages.
    """

    backbone: nn.Module
    num_classes: int
    dtype: Any = jnp.float32

    def __post_init__(self):
        check_positive_int(self.num_classes, "num_classes", minimum=2)
        super().__post_init__()

    @nn.compact
    def __call__(self, images: jax.Array, train: bool = False, return_features: bool = False,
                 upsample: bool = True):
        """Logits float32 [B, H, W, K] (``upsample=False``: at the head's stride, [B, h, w, K], which
        ``resize_bilinear(logits, H, W)`` turns into the upsampled ones); with ``return_features`` also
        the backbone features float32 [B, h, w, D]."""
        check_images(images)
        feats = self.backbone(images.astype(self.dtype), train=train)
        logits = SegmentationHead(self.num_classes, self.dtype, name="head")(feats).astype(jnp.float32)
        if upsample:
            logits = resize_bilinear(logits, *images.shape[1:3])
        return (logits, feats.astype(jnp.float32)) if return_features else logits


def check_images(images) -> None:
    """Raise unless ``images`` is a floating array [B, H, W, 3] (static checks only: safe under jit)."""
    check_rank(images, "images", 4, "[B, H, W, 3]")
    if images.shape[-1] != 3:
        raise ValueError(f"images: expected 3 (RGB) channels in the last axis, got shape {tuple(images.shape)}")
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise TypeError(
            f"images: expected a floating array of normalised images, got dtype {images.dtype} "
            "(normalise uint8 images with the dataset mean/std first)"
        )
    if min(images.shape) == 0:
        raise ValueError(f"images: expected a non-empty batch, got shape {tuple(images.shape)}")
