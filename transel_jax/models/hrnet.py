"""HRNetV2 backbone (Wang et al., "Deep High-Resolution Representation Learning"; papers/002 App. A).

Layout for width ``C`` (input [B, H, W, 3]; ``s`` = output stride of a branch):

* stem: two 3x3 stride-2 conv-BN-ReLU layers to ``stem_width`` (64) channels, s = 4;
* stage 1: ``stage1_blocks`` bottleneck units (``stage1_planes`` = 64, so 256 channels), one branch;
* stages 2, 3, 4: 2, 3, 4 parallel branches at s = 4, 8, 16, 32 with ``C, 2C, 4C, 8C`` channels, made of
  ``modules_per_stage`` high-resolution modules of ``blocks_per_branch`` basic blocks per branch followed
  by a fuse (exchange) unit. A transition before each stage adapts the existing branches (3x3 conv-BN-ReLU
  where the width changes) and opens the new lowest-resolution branch with a 3x3 stride-2 conv-BN-ReLU;
* fuse unit, output branch ``i`` = ReLU(sum_j f_ij(x_j)): ``f_ii`` identity; for ``j > i`` a 1x1 conv-BN to
  ``C_i`` then bilinear upsampling to branch ``i``'s size; for ``j < i`` a chain of ``i - j`` 3x3 stride-2
  convs (conv-BN-ReLU keeping ``C_j``, the last one conv-BN to ``C_i``);
* HRNetV2 representation: the four branches bilinearly upsampled to s = 4 and concatenated, giving
  ``C + 2C + 4C + 8C = 15C`` channels (720 for W48) at [ceil(H/4), ceil(W/4)].

The standard widths use ``modules_per_stage = (1, 4, 3)`` and ``blocks_per_branch = 4``.
"""
from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from transel_jax.checks import check_positive_int
from transel_jax.models.blocks import BasicBlock, Bottleneck
from transel_jax.models.layers import ModuleDef, layer_factories, resize_bilinear


class HRNetV2(nn.Module):
    """HRNetV2 backbone: images [B, H, W, 3] -> features [B, ceil(H/4), ceil(W/4), 15 * width]."""

    width: int = 48
    stem_width: int = 64
    stage1_planes: int = 64
    stage1_blocks: int = 4
    modules_per_stage: Sequence[int] = (1, 4, 3)
    blocks_per_branch: int = 4
    dtype: Any = jnp.float32
    axis_name: str | None = None

    output_stride = 4

    def __post_init__(self):
        object.__setattr__(self, "modules_per_stage", tuple(self.modules_per_stage))  # hashable module
        for field in ("width", "stem_width", "stage1_planes", "stage1_blocks", "blocks_per_branch"):
            check_positive_int(getattr(self, field), field)
        if len(self.modules_per_stage) != 3:
            raise ValueError(f"modules_per_stage: expected 3 counts (stages 2-4), got {self.modules_per_stage!r}")
        for m in self.modules_per_stage:
            check_positive_int(m, "modules_per_stage")
        super().__post_init__()

    @property
    def feature_channels(self) -> int:
        return 15 * self.width

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        conv, norm = layer_factories(train=train, dtype=self.dtype, axis_name=self.axis_name)
        for _ in range(2):
            x = nn.relu(norm()(conv(self.stem_width, (3, 3), 2)(x)))
        for k in range(self.stage1_blocks):
            x = Bottleneck(self.stage1_planes, conv, norm, name=f"stage1_block{k}")(x)
        branches = [x]
        for stage, num_modules in enumerate(self.modules_per_stage, start=2):
            channels = [self.width * 2**i for i in range(stage)]
            branches = _transition(branches, channels, conv, norm, f"transition{stage}")
            for m in range(num_modules):
                branches = HighResolutionModule(
                    tuple(channels), self.blocks_per_branch, conv, norm, name=f"stage{stage}_module{m}"
                )(branches)
        h, w = branches[0].shape[1:3]
        return jnp.concatenate([resize_bilinear(b, h, w) for b in branches], axis=-1)


class HighResolutionModule(nn.Module):
    """Parallel branches of basic blocks followed by a fuse unit; n inputs -> n outputs, same shapes."""

    channels: tuple[int, ...]
    num_blocks: int
    conv: ModuleDef
    norm: ModuleDef

    @nn.compact
    def __call__(self, branches: Sequence[jax.Array]) -> list[jax.Array]:
        outs = []
        for i, x in enumerate(branches):
            for k in range(self.num_blocks):
                x = BasicBlock(self.channels[i], self.conv, self.norm, name=f"branch{i}_block{k}")(x)
            outs.append(x)
        sizes = [o.shape[1:3] for o in outs]
        return [
            nn.relu(sum(_fuse_path(outs[j], i, j, self.channels, sizes[i], self.conv, self.norm)
                        for j in range(len(outs))))
            for i in range(len(outs))
        ]


def _fuse_path(x: jax.Array, i: int, j: int, channels: Sequence[int], size: tuple[int, int],
               conv: ModuleDef, norm: ModuleDef) -> jax.Array:
    """f_ij of the fuse unit: bring branch ``j`` to branch ``i``'s width ``channels[i]`` and ``size``."""
    if j == i:
        return x
    if j > i:
        y = norm(name=f"fuse{i}{j}_norm")(conv(channels[i], (1, 1), name=f"fuse{i}{j}_conv")(x))
        return resize_bilinear(y, *size)
    for k in range(i - j):
        last = k == i - j - 1
        x = conv(channels[i] if last else channels[j], (3, 3), 2, name=f"fuse{i}{j}_down{k}_conv")(x)
        x = norm(name=f"fuse{i}{j}_down{k}_norm")(x)
        x = x if last else nn.relu(x)
    return x


def _transition(branches: list[jax.Array], channels: Sequence[int], conv: ModuleDef, norm: ModuleDef,
                prefix: str) -> list[jax.Array]:
    """Adapt existing branches to ``channels`` and open the new lowest-resolution branch (stride 2)."""
    out = []
    for i, c in enumerate(channels):
        if i < len(branches):
            x = branches[i]
            if x.shape[-1] != c:
                x = nn.relu(norm(name=f"{prefix}_{i}_norm")(conv(c, (3, 3), name=f"{prefix}_{i}_conv")(x)))
        else:
            x = conv(c, (3, 3), 2, name=f"{prefix}_{i}_conv")(branches[-1])
            x = nn.relu(norm(name=f"{prefix}_{i}_norm")(x))
        out.append(x)
    return out
