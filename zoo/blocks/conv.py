"""Small convolutional stacks for images (N, C, H, W) and signals (N, C, L)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation
from zoo.blocks.norm import NormLike, get_norm
from zoo.utils.builder import register

# (convolution, max pool, adaptive average pool) for signals (dims=1) and images (dims=2)
LAYERS: dict[int, tuple[type[nn.Module], type[nn.Module], type[nn.Module]]] = {
    1: (nn.Conv1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d),
    2: (nn.Conv2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d),
}


@register()
class ConvStack(nn.Module):
    """Stages of conv (same padding) -> norm -> activation, each followed by 2x2 max-pooling.

    `pool=False` keeps the resolution; `global_pool=True` ends with a global average pool so
    the output is (N, channels[-1]) whatever the input size (Lin et al. 2014, Network in Network).
    `dims=2` (the default) takes images (N, C, H, W); `dims=1` takes signals (N, C, L) with the
    same stages in one dimension (`Conv1d`, `BatchNorm1d`, `MaxPool1d(2)`), module for module,
    so the state-dict keys are the same and only the kernels lose a dimension.
    """

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        kernel_size: int = 3,
        activation: ActivationLike = "relu",
        norm: NormLike = None,
        pool: bool = True,
        global_pool: bool = False,
        dropout: float = 0.0,
        dims: int = 2,
    ) -> None:
        super().__init__()
        if in_channels <= 0 or not channels or any(c <= 0 for c in channels):
            raise ValueError(
                f"ConvStack channels must be positive and non-empty, got in={in_channels}, "
                f"channels={channels}"
            )
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd for same padding, got {kernel_size}")
        if dims not in LAYERS:
            raise ValueError(
                f"ConvStack takes dims=1 (signals (N, C, L)) or dims=2 (images (N, C, H, W)), "
                f"got dims={dims}"
            )
        self.in_channels, self.dims = in_channels, dims
        conv, max_pool, average_pool = LAYERS[dims]
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise([in_channels, *channels]):
            layers += [
                conv(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=norm is None),
                get_norm(norm, c_out, spatial=True, dims=dims),
                get_activation(activation),
            ]
            if pool:
                layers.append(max_pool(2))
        if global_pool:
            layers += [average_pool(1), nn.Flatten(1)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, in_channels, H, W) -> maps (N, channels[-1], H', W') (H / 2 per stage
        when pooling), or (N, channels[-1]) with `global_pool`; with `dims=1`, signals
        (N, in_channels, L) -> (N, channels[-1], L')."""
        if x.dim() != self.dims + 2 or x.shape[1] != self.in_channels:
            sizes = "L" if self.dims == 1 else "H, W"
            raise ValueError(
                f"ConvStack expected input of shape (N, {self.in_channels}, {sizes}), "
                f"got {tuple(x.shape)}"
            )
        return self.layers(x)


@register()
class ConvDecoder(nn.Module):
    """The mirror of a `ConvStack`: a code (N, in_features) -> a dense map of
    channels[0] x start_size x start_size -> stages of 2x nearest upsampling + conv ->
    (N, out_channels, H, W) with H = W = start_size * 2^len(channels). Give `start_size`, or
    the `output_size` H it must reach (divisible by 2^len(channels))."""

    def __init__(
        self,
        in_features: int,
        channels: Sequence[int],
        out_channels: int,
        start_size: int | None = None,
        kernel_size: int = 3,
        activation: ActivationLike = "relu",
        output_size: int | None = None,
    ) -> None:
        super().__init__()
        if (start_size is None) == (output_size is None):
            raise ValueError("ConvDecoder takes start_size or output_size, one of them")
        if output_size is not None:
            start_size, rest = divmod(output_size, 2 ** len(channels))
            if rest:
                raise ValueError(
                    f"ConvDecoder output_size={output_size}: expected a multiple of "
                    f"{2 ** len(channels)} (2 ^ {len(channels)} upsampling stages)"
                )
        assert start_size is not None  # given, or derived from output_size just above
        if not channels or min(channels) <= 0 or start_size <= 0:
            raise ValueError(
                f"ConvDecoder needs positive channels and start_size, got {channels}, {start_size}"
            )
        self.in_features, self.start = in_features, (channels[0], start_size, start_size)
        self.project = nn.Linear(in_features, channels[0] * start_size * start_size)
        layers: list[nn.Module] = [get_activation(activation)]
        for c_in, c_out in itertools.pairwise([*channels, out_channels]):
            layers += [
                nn.Upsample(scale_factor=2),
                nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2),
                get_activation(activation),
            ]
        self.layers = nn.Sequential(*layers[:-1])  # no activation after the last conv

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Codes (N, in_features) -> images (N, out_channels, H, W)."""
        if z.dim() != 2 or z.shape[1] != self.in_features:
            raise ValueError(f"ConvDecoder expected (N, {self.in_features}), got {tuple(z.shape)}")
        return self.layers(self.project(z).view(-1, *self.start))
