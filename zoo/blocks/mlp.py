"""Dense stacks: the multi-layer perceptron every other pattern is built from."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation
from zoo.blocks.manual_linear import ManualLinear
from zoo.blocks.norm import NormLike, get_norm
from zoo.blocks.shapes import check_features

LINEARS: dict[str, type[nn.Module]] = {"torch": nn.Linear, "manual": ManualLinear}


class MLP(nn.Module):
    """Linear -> norm -> activation -> dropout, repeated; input (N, ...) is flattened first.

    `out_features` adds a final linear layer without activation; leave it `None` when a head
    follows. `linear="manual"` swaps in the hand-written backward of `ManualLinear`.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int | None = None,
        activation: ActivationLike = "relu",
        norm: NormLike = None,
        dropout: float = 0.0,
        linear: str = "torch",
    ) -> None:
        super().__init__()
        if in_features <= 0 or any(h <= 0 for h in hidden):
            raise ValueError(f"MLP sizes must be positive, got in={in_features}, hidden={hidden}")
        if linear not in LINEARS:
            raise ValueError(f"unknown linear {linear!r}: expected one of {sorted(LINEARS)}")
        layer = LINEARS[linear]
        self.in_features = in_features
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            layers += [layer(fan_in, fan_out), get_norm(norm, fan_out), get_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        if out_features is not None:
            layers.append(layer(sizes[-1], out_features))
        self.layers = nn.Sequential(*layers)
        self.out_features = out_features if out_features is not None else sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            check_features(x, self.in_features, "MLP")
            x = x.flatten(1)
        return self.layers(x)
