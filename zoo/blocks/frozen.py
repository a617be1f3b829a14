"""A pretrained part used as it is: the linear evaluation of self-supervised encoders (SimCLR,
Chen et al. 2020), where only the head on top learns from the few labels there are."""

from __future__ import annotations

import torch
from torch import nn

from zoo.utils.builder import register


@register()
class FrozenSequential(nn.Sequential):
    """`nn.Sequential` (same layers, same weight names) that never trains: no gradient flows
    into it and it stays in eval mode whatever mode the model around it is in, so dropout is
    off and batch norm keeps its pretrained statistics."""

    def train(self, mode: bool = True) -> FrozenSequential:
        """Stay in eval mode, whatever `mode` the model around it asks for."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The layers in order, outside autograd."""
        with torch.no_grad():
            return super().forward(x)
