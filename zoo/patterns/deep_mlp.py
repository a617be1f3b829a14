"""A deep, narrow MLP whose hidden layers are plain, residual, batch-normed or highway: the
depth experiment of the modulation chapter (He et al. 2016; Ioffe & Szegedy 2015;
Srivastava et al. 2015)."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation
from zoo.blocks.gating import Highway
from zoo.blocks.residual import Residual
from zoo.blocks.shapes import check_features
from zoo.utils.builder import register

KINDS = ("plain", "residual", "batchnorm", "highway")


def hidden_layer(kind: str, width: int, activation: ActivationLike, gate_bias: float) -> nn.Module:
    """One width -> width layer of the given kind."""
    if kind == "plain":
        return nn.Sequential(nn.Linear(width, width), get_activation(activation))
    if kind == "batchnorm":
        return nn.Sequential(
            nn.Linear(width, width), nn.BatchNorm1d(width), get_activation(activation)
        )
    if kind == "residual":  # pre-activation: x + W act(x) (He et al. 2016, identity mappings)
        body = nn.Sequential(get_activation(activation), nn.Linear(width, width))
        return Residual(body, width, placement=None)
    if kind == "highway":
        return Highway(width, activation=activation, gate_bias=gate_bias)
    raise ValueError(f"kind={kind!r}: expected one of {KINDS}")


@register()
class DeepMLP(nn.Module):
    """`depth` linear layers of `width` units over the flattened input, He-initialised.

    Only the hidden layers differ between kinds, so accuracy against depth isolates what the
    skip connection, the normalisation or the gate contributes. Residual branches start scaled
    by 1/sqrt(depth) so the stack's output variance stays bounded (Hanin & Rolnick 2018).
    """

    def __init__(
        self,
        in_features: int,
        width: int = 50,
        depth: int = 20,
        kind: str = "plain",
        activation: ActivationLike = "relu",
        gate_bias: float = -2.0,
    ) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be >= 2 (input and output layers), got {depth}")
        self.in_features, self.out_features = in_features, width
        layers = [nn.Linear(in_features, width), get_activation(activation)]
        layers += [hidden_layer(kind, width, activation, gate_bias) for _ in range(depth - 1)]
        self.layers = nn.Sequential(*layers)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
        for module in self.modules():  # after the He init above, which they adjust
            if isinstance(module, Highway):  # the gate starts closed: carry the input
                nn.init.constant_(module.gate.bias, gate_bias)
            if isinstance(module, Residual):  # branches scaled by 1/sqrt(depth), else the sum
                branch = cast(nn.Sequential, module.fn)  # of `depth` branches blows up
                cast(nn.Linear, branch[-1]).weight.data /= depth**0.5  # hidden_layer's linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, ...) with `in_features` values per sample -> features (N, width)."""
        check_features(x, self.in_features, "DeepMLP")
        return self.layers(x.flatten(1))
