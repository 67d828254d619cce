"""Dilated ResNet backbone with an atrous upsampling layer: "ResNet23M" (papers/000 Sec. 3.1).

Layout (input [B, H, W, 3], output [B, ceil(H/8), ceil(W/8), atrous_features]):

* stem: 7x7 stride-2 conv-BN-ReLU to ``stem_width`` (64), 3x3 stride-2 max pool (s = 4);
* four stages of ResNet-50 bottleneck units (``units`` = (3, 4, 6, 3), ``planes`` = (64, 128, 256, 512),
  output ``4 * planes``); stage 2 has stride 2 (s = 8); stages 3 and 4 keep s = 8 and instead dilate every
  3x3 conv by ``dilations`` = (2, 4) (the "dilated ResNet": no downsampling in the last two stages);
* the last ``trim_last`` = 4 weighted layers of the last stage are removed: its final unit (three convs) and
  the 1x1 expansion conv of the unit before it. That unit is left as 1x1 conv-BN-ReLU -> dilated 3x3
  conv-BN-ReLU with ``planes[-1]`` = 512 output channels and no residual sum (its output width no longer
  matches the shortcut);
* the atrous upsampling layer: 5 parallel 3x3 convs with dilation ``atrous_rates`` = (1, 6, 12, 18, 24),
  each followed by its own BN, **summed** (DeepLab-v2 ASPP style, not concatenated), then ReLU:
  ``y = relu(sum_r BN_r(conv3x3_rate_r(x)))`` with ``atrous_features`` channels.

Matching the parameter count: ResNet-50 up to the trimmed last stage has about 18.0M parameters (23.5M for
the full convolutional trunk, minus 4.46M for the last unit and 1.05M for the removed 1x1 expansion). Each
atrous branch adds ``9 * 512 * d`` weights, so ``d = atrous_features = 192`` brings the total to about 22.4M,
within 1% of HRNetV2-W28 (22.5M); ``describe()`` and ``benchmarks/model_table.py`` print the exact counts.
"""
from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from transel_jax.checks import check_positive_int
from transel_jax.models.blocks import Bottleneck
from transel_jax.models.layers import ModuleDef, layer_factories


class DilatedResNet(nn.Module):
    """Dilated ResNet + atrous layer: images [B, H, W, 3] -> features [B, ceil(H/8), ceil(W/8), d]."""

    stem_width: int = 64
    planes: Sequence[int] = (64, 128, 256, 512)
    units: Sequence[int] = (3, 4, 6, 3)
    dilations: Sequence[int] = (1, 1, 2, 4)
    trim_last: int = 4
    atrous_features: int = 192
    atrous_rates: Sequence[int] = (1, 6, 12, 18, 24)
    dtype: Any = jnp.float32
    axis_name: str | None = None

    output_stride = 8

    def __post_init__(self):
        for field in ("planes", "units", "dilations", "atrous_rates"):  # tuples keep the module hashable
            object.__setattr__(self, field, tuple(getattr(self, field)))
        check_positive_int(self.stem_width, "stem_width")
        check_positive_int(self.atrous_features, "atrous_features")
        if not len(self.planes) == len(self.units) == len(self.dilations) == 4:
            raise ValueError(
                f"planes, units, dilations: expected 4 entries each, got {len(self.planes)}, "
                f"{len(self.units)}, {len(self.dilations)}"
            )
        for field in ("planes", "units", "dilations", "atrous_rates"):
            for value in getattr(self, field):
                check_positive_int(value, field)
        check_positive_int(self.trim_last, "trim_last", minimum=0)
        if self.trim_last >= 3 * self.units[-1]:
            raise ValueError(
                f"trim_last: expected fewer than the last stage's {3 * self.units[-1]} layers, got {self.trim_last}"
            )
        if not self.atrous_rates or len(set(self.atrous_rates)) != len(self.atrous_rates):
            raise ValueError(f"atrous_rates: expected distinct dilation rates, got {self.atrous_rates!r}")
        super().__post_init__()

    @property
    def feature_channels(self) -> int:
        return self.atrous_features

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        conv, norm = layer_factories(train=train, dtype=self.dtype, axis_name=self.axis_name)
        x = nn.relu(norm()(conv(self.stem_width, (7, 7), 2)(x)))
        x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        last = len(self.units) - 1
        for stage, (planes, units, rate) in enumerate(zip(self.planes, self.units, self.dilations)):
            full, partial = divmod(3 * units - (self.trim_last if stage == last else 0), 3)
            for k in range(full):
                strides = 2 if (stage == 1 and k == 0) else 1
                x = Bottleneck(planes, conv, norm, strides, rate, name=f"stage{stage + 1}_block{k}")(x)
            if partial:
                x = _partial_bottleneck(x, planes, partial, rate, conv, norm, f"stage{stage + 1}_block{full}")
        return AtrousSum(self.atrous_features, tuple(self.atrous_rates), conv, norm, name="atrous")(x)


class AtrousSum(nn.Module):
    """``relu(sum_r BN_r(conv3x3(x, dilation=r)))`` over the rates; [B, h, w, D] -> [B, h, w, features]."""

    features: int
    rates: tuple[int, ...]
    conv: ModuleDef
    norm: ModuleDef

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        branches = [
            self.norm(name=f"rate{r}_norm")(self.conv(self.features, (3, 3), 1, r, name=f"rate{r}_conv")(x))
            for r in self.rates
        ]
        return nn.relu(sum(branches))


def _partial_bottleneck(x: jax.Array, planes: int, num_convs: int, dilation: int, conv: ModuleDef,
                        norm: ModuleDef, prefix: str) -> jax.Array:
    """The first ``num_convs`` (1 or 2) conv-BN-ReLU layers of a bottleneck unit, without the residual."""
    x = nn.relu(norm(name=f"{prefix}_norm0")(conv(planes, (1, 1), name=f"{prefix}_conv0")(x)))
    if num_convs == 2:
        x = conv(planes, (3, 3), 1, dilation, name=f"{prefix}_conv1")(x)
        x = nn.relu(norm(name=f"{prefix}_norm1")(x))
    return x
