"""Skip connections (He et al. 2016): the block learns a residual f(x) added to x, so a deep
stack starts near the identity and gradients reach early layers undiminished."""

from __future__ import annotations

import torch
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation
from zoo.blocks.norm import NormLike, get_norm
from zoo.utils.builder import register


@register()
class Residual(nn.Module):
    """x + f(x), with the norm before f (`"pre"`, Xiong et al. 2020), after the sum (`"post"`,
    the original transformer / ResNet placement) or absent (`None`)."""

    def __init__(
        self, fn: nn.Module, features: int, norm: NormLike = "layer", placement: str | None = "pre"
    ) -> None:
        super().__init__()
        if placement not in ("pre", "post", None):
            raise ValueError(f"placement={placement!r}: expected 'pre', 'post' or None")
        self.fn, self.placement, self.features = fn, placement, features
        self.norm = get_norm(norm, features) if placement else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x -> x + f(x) (normed as `placement` says), shaped like x."""
        if x.dim() < 2 or x.shape[-1] != self.features:
            raise ValueError(
                f"Residual expected input of shape (..., {self.features}), got {tuple(x.shape)}"
            )
        if self.placement == "pre":
            return x + self.fn(self.norm(x))
        if self.placement == "post":
            return self.norm(x + self.fn(x))
        return x + self.fn(x)


@register()
class ResidualMLPBlock(nn.Module):
    """x + W2 act(W1 norm(x)): the dense residual block."""

    def __init__(
        self,
        features: int,
        hidden: int | None = None,
        activation: ActivationLike = "relu",
        norm: NormLike = None,
    ) -> None:
        super().__init__()
        self.features = features
        hidden = hidden or features
        self.body = nn.Sequential(
            get_norm(norm, features),
            nn.Linear(features, hidden),
            get_activation(activation),
            nn.Linear(hidden, features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, features) -> (N, features)."""
        if x.dim() != 2 or x.shape[1] != self.features:
            raise ValueError(
                f"ResidualMLPBlock expected (N, {self.features}), got {tuple(x.shape)}"
            )
        return x + self.body(x)


@register()
class ResidualConvBlock(nn.Module):
    """ResNet's basic block (He et al. 2016): relu(x + BN(conv(relu(BN(conv(x)))))), same channels and size."""

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        norm: NormLike = "batch",
        activation: ActivationLike = "relu",
    ) -> None:
        super().__init__()
        self.channels = channels
        pad = kernel_size // 2
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, padding=pad, bias=norm is None),
            get_norm(norm, channels, spatial=True),
            get_activation(activation),
            nn.Conv2d(channels, channels, kernel_size, padding=pad, bias=norm is None),
            get_norm(norm, channels, spatial=True),
        )
        self.activation = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, channels, H, W) -> (N, channels, H, W)."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"ResidualConvBlock expected (N, {self.channels}, H, W), got {tuple(x.shape)}"
            )
        return self.activation(x + self.body(x))
