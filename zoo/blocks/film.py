"""FiLM: feature-wise linear modulation (Perez et al. 2018). A conditioning vector (a
question, a task, a class) scales and shifts every channel of a feature map:
FiLM(F | c) = gamma(c) * F + beta(c)."""

from __future__ import annotations

import torch
from torch import nn

from zoo.utils.builder import register


@register()
class FiLMGenerator(nn.Module):
    """Map a conditioning vector (N, cond_dim) to per-channel (gamma, beta), each (N, C).

    Gamma is predicted as 1 + delta, so an untrained generator starts near the identity.
    """

    def __init__(self, cond_dim: int, num_channels: int, hidden: int | None = None) -> None:
        super().__init__()
        self.cond_dim, self.num_channels = cond_dim, num_channels
        layers: list[nn.Module] = [nn.Linear(cond_dim, hidden), nn.ReLU()] if hidden else []
        layers.append(nn.Linear(hidden or cond_dim, 2 * num_channels))
        self.net = nn.Sequential(*layers)

    def forward(self, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Conditioning (N, cond_dim) -> (gamma, beta), each (N, num_channels)."""
        if cond.dim() != 2 or cond.shape[1] != self.cond_dim:
            raise ValueError(
                f"FiLMGenerator expected (N, {self.cond_dim}), got {tuple(cond.shape)}"
            )
        delta_gamma, beta = self.net(cond).chunk(2, dim=-1)
        return 1 + delta_gamma, beta


def film(features: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """gamma * features + beta, per channel, for features (N, C) or `(N, C, *spatial)`."""
    if gamma.shape != beta.shape or gamma.shape != features.shape[:2]:
        raise ValueError(
            f"FiLM needs gamma and beta of shape (N, C) = {tuple(features.shape[:2])}, "
            f"got {tuple(gamma.shape)} and {tuple(beta.shape)}"
        )
    extra = (1,) * (features.dim() - 2)
    return gamma.view(*gamma.shape, *extra) * features + beta.view(*beta.shape, *extra)


@register()
class FiLMConvBlock(nn.Module):
    """The FiLM-ed residual block of Perez et al.: conv 1x1 -> relu -> conv 3x3 -> BN (no
    affine) -> FiLM(c) -> relu, plus the 1x1 output as a skip."""

    def __init__(self, in_channels: int, channels: int, cond_dim: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, channels, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.film = FiLMGenerator(cond_dim, channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Maps (N, in_channels, H, W) modulated by `cond` (N, cond_dim) -> (N, channels, H, W)."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"FiLMConvBlock expected (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        skip = torch.relu(self.conv1(x))
        h = film(self.norm(self.conv2(skip)), *self.film(cond))
        return skip + torch.relu(h)
