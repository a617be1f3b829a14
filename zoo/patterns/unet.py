"""U-Net (Ronneberger et al. 2015): the bottom-up pattern for dense prediction. An encoder
halves the resolution stage by stage; a decoder doubles it back, and at every scale takes the
encoder's features of that scale through a skip connection, so the output has both the
context of the deep stages and the detail of the shallow ones."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.norm import NormLike, get_norm
from zoo.utils.builder import register


def double_conv(c_in: int, c_out: int, norm: NormLike) -> nn.Sequential:
    """Two 3x3 convolutions (same padding), each followed by norm and ReLU."""
    layers: list[nn.Module] = []
    for a, b in ((c_in, c_out), (c_out, c_out)):
        layers += [
            nn.Conv2d(a, b, 3, padding=1, bias=norm is None),
            get_norm(norm, b, spatial=True),
            nn.ReLU(),
        ]
    return nn.Sequential(*layers)


@register()
class UNet(nn.Module):
    """Maps (N, C, H, W) images to (N, num_classes, H, W) per-pixel logits.

    `channels` gives the width of each scale, from full resolution down; H and W must divide
    by 2^(len(channels) - 1). `skips=False` builds the same encoder-decoder without the
    cross-scale skips (the decoder sees only what came up from the bottleneck): the baseline
    that shows what they are for.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int] = (16, 32, 64),
        skips: bool = True,
        norm: NormLike = "batch",
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        in_channels, height, width = self.input_shape
        factor = 2 ** (len(channels) - 1)
        if len(channels) < 2 or height % factor or width % factor:
            raise ValueError(
                f"UNet needs at least 2 scales and H, W divisible by {factor}, got "
                f"channels={list(channels)} and input_shape={list(input_shape)}"
            )
        self.num_classes, self.skips = num_classes, skips
        widths = [in_channels, *channels]
        self.down = nn.ModuleList(double_conv(a, b, norm) for a, b in itertools.pairwise(widths))
        self.pool = nn.MaxPool2d(2)
        deep_to_shallow = list(reversed(channels))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(a, b, 2, stride=2) for a, b in itertools.pairwise(deep_to_shallow)
        )
        self.merge = nn.ModuleList(
            double_conv(b * (2 if skips else 1), b, norm) for b in deep_to_shallow[1:]
        )
        self.out = nn.Conv2d(channels[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) -> per-pixel class logits (N, num_classes, H, W)."""
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"UNet expects inputs of shape (N, {', '.join(map(str, self.input_shape))}), "
                f"got {tuple(x.shape)}"
            )
        features = []
        for i, stage in enumerate(self.down):
            x = stage(x if i == 0 else self.pool(x))
            features.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(features[:-1]), strict=True):
            x = up(x)
            x = merge(torch.cat([x, skip], dim=1) if self.skips else x)
        return self.out(x)
