"""GAN losses on discriminator logits (Goodfellow et al. 2014)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))), averaged: real images labelled 1, generated ones 0."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss -log D(G(z)): strong gradients while the
    discriminator still rejects the samples (log(1 - D(G(z))) saturates there)."""
    return F.softplus(-fake_logits).mean()
