"""Autoregressive image models: p(x) = prod_i p(x_i | x_<i) over the pixels in raster order
(PixelCNN, van den Oord et al. 2016), and the independent-pixel model they are measured against.
Both model binary images with one Bernoulli logit per pixel."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.masked_conv import MaskedConv2d
from zoo.utils.builder import register


class BinaryImageModel(nn.Module):
    """What a likelihood model of binary images (N, C, H, W) offers: per-pixel logits from
    `forward`, `log_likelihood` in nats per image, and `sample`."""

    input_shape: tuple[int, ...]

    def check(self, x: torch.Tensor) -> None:
        """Raise unless `x` is a batch of images `(N, *input_shape)`."""
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"{type(self).__name__} expects images of shape "
                f"(N, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}"
            )

    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) in nats, one value per image."""
        nll = F.binary_cross_entropy_with_logits(self(x), x, reduction="none")
        return -nll.flatten(1).sum(1)

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`count` images drawn pixel by pixel in raster order, each from p(x_i | x_<i)."""
        device = next(self.parameters()).device
        x = torch.zeros(count, *self.input_shape, device=device)
        _, height, width = self.input_shape
        for row in range(height):
            for col in range(width):
                p = torch.sigmoid(self(x)[:, :, row, col])
                x[:, :, row, col] = torch.bernoulli(p, generator=generator)
        return x


@register()
class PixelCNN(BinaryImageModel):
    """A mask-A convolution, then `layers` residual mask-B convolutions, then a 1x1 map to one
    logit per pixel: every logit sees only the pixels before it."""

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 8, 8),
        channels: int = 64,
        layers: int = 5,
        first_kernel: int = 5,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        in_channels = self.input_shape[0]
        if in_channels != 1:
            raise ValueError(f"PixelCNN models one-channel images, got input_shape {input_shape}")
        self.first = MaskedConv2d(in_channels, channels, first_kernel, "A")
        self.layers = nn.ModuleList(
            MaskedConv2d(channels, channels, kernel_size, "B") for _ in range(layers)
        )
        self.out = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, in_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Binary images (N, 1, H, W) -> per-pixel logits of p(x_i = 1 | x_<i), same shape."""
        self.check(x)
        h = self.first(2 * x - 1)  # pixels as -1 / +1
        for layer in self.layers:
            h = h + layer(F.relu(h))
        return self.out(h)


@register()
class IndependentPixels(BinaryImageModel):
    """One learned Bernoulli logit per pixel, whatever the other pixels are: the baseline an
    autoregressive model must beat."""

    def __init__(self, input_shape: Sequence[int] = (1, 8, 8)) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.logits = nn.Parameter(torch.zeros(self.input_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images `(N, *input_shape)` -> the same per-pixel logits for every image."""
        self.check(x)
        return self.logits.expand_as(x)
