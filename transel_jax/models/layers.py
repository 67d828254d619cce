"""Layer factories and resizing shared by the backbones.

Backbones never construct ``nn.Conv``/``nn.BatchNorm`` with hard-coded settings; they receive them as
``functools.partial`` objects (flax ``examples/imagenet`` style) so that compute dtype, BatchNorm mode and
the cross-device ``axis_name`` are decided in one place:

>>> conv, norm = layer_factories(train=False, dtype=jnp.bfloat16, axis_name=None)  # doctest: +SKIP
>>> y = norm()(conv(64, (3, 3))(x))                                                # doctest: +SKIP

Convolutions use symmetric zero padding ``dilation * (k - 1) // 2`` on each side, so a stride-2 conv maps a
size ``n`` to ``ceil(n / 2)`` (odd sizes included) and a stride-1 conv keeps the size.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import flax.linen as nn
import jax

ModuleDef = Callable[..., nn.Module]
Dtype = Any

# BatchNorm settings used throughout (PyTorch-style momentum 0.1 == flax momentum 0.9).
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def layer_factories(*, train: bool, dtype: Dtype, axis_name: str | None) -> tuple[ModuleDef, ModuleDef]:
    """Return ``(conv, norm)`` partials for one forward pass.

    ``conv(features, kernel_size, strides=1, dilation=1)`` is a bias-free ``nn.Conv`` (a BatchNorm follows
    it) computing in ``dtype`` with float32 parameters and symmetric padding. ``norm(**kw)`` is an
    ``nn.BatchNorm`` that uses batch statistics (and updates ``batch_stats``) when ``train`` and the running
    averages otherwise; with ``axis_name`` set, batch statistics are averaged over that mapped axis
    (synchronised BN inside ``jax.shard_map``).
    """
    conv = functools.partial(_padded_conv, use_bias=False, dtype=dtype)
    norm = functools.partial(
        nn.BatchNorm,
        use_running_average=not train,
        momentum=BN_MOMENTUM,
        epsilon=BN_EPSILON,
        dtype=dtype,
        axis_name=axis_name,
    )
    return conv, norm


def _padded_conv(features: int, kernel_size: tuple[int, int], strides: int = 1, dilation: int = 1,
                 **kwargs) -> nn.Conv:
    """``nn.Conv`` with symmetric padding ``dilation * (k - 1) // 2`` (odd kernels) on both sides."""
    pads = tuple((dilation * (k - 1) // 2,) * 2 for k in kernel_size)
    return nn.Conv(features, kernel_size, strides=(strides, strides), kernel_dilation=(dilation, dilation),
                   padding=pads, **kwargs)


def resize_bilinear(x: jax.Array, height: int, width: int) -> jax.Array:
    """Bilinearly resize ``x`` [B, h, w, D] to [B, height, width, D] (half-pixel centres, no antialias).

    Equivalent to PyTorch ``interpolate(mode="bilinear", align_corners=False)`` for upsampling. A no-op
    when the size already matches.
    """
    b, h, w, d = x.shape
    if (h, w) == (height, width):
        return x
    return jax.image.resize(x, (b, height, width, d), method="bilinear", antialias=False)
