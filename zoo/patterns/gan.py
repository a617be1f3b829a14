"""Generative adversarial network (Goodfellow et al. 2014), the adversarial pattern: a
generator maps noise z to images, a discriminator scores images as real or generated, and
each is trained against the other."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from zoo.utils.builder import register


@register()
class GAN(nn.Module):
    """`generator`: (N, latent_dim) -> (N, prod(input_shape)) pixel logits, squashed here to
    [0, 1]; `discriminator`: (N, prod(input_shape)) images -> (N, 1) real-vs-fake logits.
    `forward(z)` and `sample(n)` return images `(N, *input_shape)`."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        latent_dim: int,
        input_shape: Sequence[int],
    ) -> None:
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.input_shape = latent_dim, tuple(input_shape)
        self.pixels = math.prod(self.input_shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Noise z (N, latent_dim) -> images `(N, *input_shape)` in [0, 1]."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"GAN expects z of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return torch.sigmoid(self.generator(z)).view(-1, *self.input_shape)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """Real-vs-generated logits, one per image."""
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"GAN discriminates images of shape (N, {', '.join(map(str, self.input_shape))}), "
                f"got {tuple(x.shape)}"
            )
        return self.discriminator(x.flatten(1)).squeeze(1)

    def noise(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`count` draws of z ~ N(0, I), (count, latent_dim), on the model's device."""
        device = next(self.parameters()).device
        return torch.randn(count, self.latent_dim, generator=generator, device=device)

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """`count` generated images `(count, *input_shape)`, without a graph."""
        return self(self.noise(count, generator))
