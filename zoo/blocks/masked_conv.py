"""Masked convolution (PixelCNN, van den Oord et al. 2016): a convolution that only sees the
pixels before its centre in raster order, so a stack of them is autoregressive."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zoo.utils.builder import register


@register()
class MaskedConv2d(nn.Conv2d):
    """`mask_type="A"` hides the centre too (the first layer: a pixel must not see itself);
    `"B"` lets it through (later layers: the centre then holds features of earlier pixels)."""

    mask: torch.Tensor

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str):
        if mask_type not in ("A", "B") or kernel_size % 2 == 0:
            raise ValueError(
                f"MaskedConv2d needs mask_type 'A' or 'B' and an odd kernel_size, got "
                f"{mask_type!r} and {kernel_size}"
            )
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        mask = torch.ones_like(self.weight)
        centre = kernel_size // 2
        mask[:, :, centre, centre + (mask_type == "B") :] = 0  # the centre row from the centre
        mask[:, :, centre + 1 :] = 0  # every row below
        self.register_buffer("mask", mask)
        self.mask_type = mask_type

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, H, W) -> (N, out_channels, H, W), each output blind to the pixels
        after it."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"MaskedConv2d expected (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)
