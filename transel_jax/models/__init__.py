"""Segmentation models: HRNetV2 and the dilated ResNet23M with a linear head, and the ensemble head.

>>> import jax.numpy as jnp
>>> from transel_jax import models
>>> model = models.build("resnet_tiny", num_classes=5)
>>> images = jnp.zeros((2, 65, 97, 3))                      # normalised images [B, H, W, 3]
>>> variables = models.random_variables(model, images.shape)  # or model.init(jax.random.PRNGKey(0), images)
>>> logits, feats = model.apply(variables, images, return_features=True)
>>> logits.shape, feats.shape
((2, 65, 97, 5), (2, 9, 13, 32))
"""
from transel_jax.models.ensemble import EnsembleHead, EnsembleSegmenter, ensemble_variables, frozen_member_logits
from transel_jax.models.heads import SegmentationHead
from transel_jax.models.hrnet import HRNetV2
from transel_jax.models.registry import build, count_layers, count_params, describe, names
from transel_jax.models.random_init import random_variables
from transel_jax.models.resnet import DilatedResNet
from transel_jax.models.segmenter import Segmenter, check_images

__all__ = [
    "DilatedResNet",
    "EnsembleHead",
    "EnsembleSegmenter",
    "HRNetV2",
    "SegmentationHead",
    "Segmenter",
    "build",
    "check_images",
    "count_layers",
    "count_params",
    "describe",
    "ensemble_variables",
    "frozen_member_logits",
    "names",
    "random_variables",
]
