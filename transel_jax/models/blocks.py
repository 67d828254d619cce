"""Residual units shared by HRNetV2 and the dilated ResNet.

Both take their layers as injected partials (see :func:`transel_jax.models.layers.layer_factories`) and map
``x`` [B, H, W, D_in] to [B, ceil(H/s), ceil(W/s), D_out] with ``s = strides``.
"""
from __future__ import annotations

import flax.linen as nn
import jax

from transel_jax.models.layers import ModuleDef


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and an identity (or 1x1 conv-BN projection) shortcut.

    ``y = relu(BN(conv3x3(relu(BN(conv3x3_s(x))))) + shortcut(x))``; ``D_out = features``. Two layers with
    weights, three when a projection is needed (stride or width change).
    """

    features: int
    conv: ModuleDef
    norm: ModuleDef
    strides: int = 1
    dilation: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = self.conv(self.features, (3, 3), self.strides, self.dilation)(x)
        y = nn.relu(self.norm()(y))
        y = self.conv(self.features, (3, 3), 1, self.dilation)(y)
        y = self.norm()(y)
        return nn.relu(y + _shortcut(x, self.features, self.strides, self.conv, self.norm))


class Bottleneck(nn.Module):
    """ResNet bottleneck: 1x1 (``planes``) -> 3x3 (``planes``, stride, dilation) -> 1x1 (``4 * planes``).

    Each conv is followed by BN, ReLU after the first two and after the residual sum; the shortcut is
    the identity or a 1x1 conv-BN projection. ``D_out = 4 * planes``; the stride sits on the 3x3 conv.
    """

    planes: int
    conv: ModuleDef
    norm: ModuleDef
    strides: int = 1
    dilation: int = 1
    expansion: int = 4

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        out = self.planes * self.expansion
        y = nn.relu(self.norm()(self.conv(self.planes, (1, 1))(x)))
        y = nn.relu(self.norm()(self.conv(self.planes, (3, 3), self.strides, self.dilation)(y)))
        y = self.norm()(self.conv(out, (1, 1))(y))
        return nn.relu(y + _shortcut(x, out, self.strides, self.conv, self.norm))


def _shortcut(x: jax.Array, features: int, strides: int, conv: ModuleDef, norm: ModuleDef) -> jax.Array:
    """Identity when shapes agree, otherwise a strided 1x1 conv followed by BN."""
    if strides == 1 and x.shape[-1] == features:
        return x
    return norm(name="shortcut_norm")(conv(features, (1, 1), strides, name="shortcut_conv")(x))
