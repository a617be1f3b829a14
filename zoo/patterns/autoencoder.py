"""Encoder-decoder patterns over a latent code z: the plain and denoising autoencoder.

`EncoderDecoder` is the shape of the family: z = encode(x), output = decode(z). The
`Autoencoder` reconstructs its own input through a bottleneck (Hinton & Salakhutdinov 2006);
with `corruption` it is a denoising autoencoder that damages its input while training
(Vincent et al. 2008) and still reconstructs the clean one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.noise import corrupt
from zoo.blocks.shapes import check_shape, materialize
from zoo.utils.builder import register


@register()
class EncoderDecoder(nn.Module):
    """decode(encode(x)) for inputs `(N, *input_shape)`; any encoder/decoder pair composes."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, input_shape: Sequence[int]) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.encoder, self.decoder = encoder, decoder
        # lazy layers (an MLP with in_features=None) get their shapes from one dry run
        materialize(nn.Sequential(encoder, decoder), self.input_shape)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs `(N, *input_shape)` -> codes z, as the encoder shapes them."""
        check_shape(x, self.input_shape, type(self).__name__)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes z (N, ...) -> outputs `(N, *input_shape)`."""
        return self.decoder(z).view(-1, *self.input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, *input_shape)` -> decode(encode(x)), `(N, *input_shape)`."""
        return self.decode(self.encode(x))


@register()
class Autoencoder(EncoderDecoder):
    """Reconstruct x through the code z; outputs pass through `output` (sigmoid for [0, 1]
    pixels). `corruption` ("mask" / "gaussian") at `noise_level` applies in training only."""

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module,
        input_shape: Sequence[int],
        output: str = "sigmoid",
        corruption: str | None = None,
        noise_level: float = 0.0,
    ) -> None:
        super().__init__(encoder, decoder, input_shape)
        if output not in ("sigmoid", "identity"):
            raise ValueError(f"output={output!r}: expected 'sigmoid' or 'identity'")
        self.output, self.corruption, self.noise_level = output, corruption, noise_level
        if corruption is not None:
            corrupt(torch.zeros(1), corruption, noise_level)  # validates kind and level now

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes z -> reconstructions `(N, *input_shape)`, through `output`."""
        x = super().decode(z)
        return torch.sigmoid(x) if self.output == "sigmoid" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, *input_shape)` -> reconstructions, shaped alike; corrupted first in training."""
        if self.training and self.corruption is not None:
            x = corrupt(x, self.corruption, self.noise_level)
        return self.decode(self.encode(x))
