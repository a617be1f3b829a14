"""Dense stacks: the multi-layer perceptron every other pattern is built from."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation
from zoo.blocks.manual_linear import ManualLinear
from zoo.blocks.norm import NormLike, get_norm
from zoo.blocks.shapes import check_features
from zoo.utils.builder import register

LINEARS: dict[str, type[nn.Module]] = {"torch": nn.Linear, "manual": ManualLinear}


@register()
class MLP(nn.Module):
    """Linear -> norm -> activation -> dropout, repeated; input (N, ...) is flattened first.

    `out_features` adds a final linear layer without activation; leave it `None` when a head
    follows. `in_features=None` makes the first layer an `nn.LazyLinear` whose width is set by
    the first batch (a pattern's dry run does that when it is built), so a config never works
    out a flattened size by hand. `linear="manual"` swaps in the hand-written backward of
    `ManualLinear` (which needs `in_features`).
    """

    def __init__(
        self,
        in_features: int | None,
        hidden: Sequence[int],
        out_features: int | None = None,
        activation: ActivationLike = "relu",
        norm: NormLike = None,
        dropout: float = 0.0,
        linear: str = "torch",
    ) -> None:
        super().__init__()
        if (in_features is not None and in_features <= 0) or any(h <= 0 for h in hidden):
            raise ValueError(f"MLP sizes must be positive, got in={in_features}, hidden={hidden}")
        if linear not in LINEARS:
            raise ValueError(f"unknown linear {linear!r}: expected one of {sorted(LINEARS)}")
        if in_features is None and linear != "torch":
            raise ValueError(f"MLP with linear={linear!r} needs in_features (None is lazy)")
        layer = LINEARS[linear]

        def linear_layer(fan_in: int | None, fan_out: int) -> nn.Module:
            return nn.LazyLinear(fan_out) if fan_in is None else layer(fan_in, fan_out)

        self._in_features = in_features
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], hidden, strict=True):  # consecutive sizes
            layers += [
                linear_layer(fan_in, fan_out),
                get_norm(norm, fan_out),
                get_activation(activation),
            ]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        if out_features is not None:
            layers.append(linear_layer(sizes[-1], out_features))
        self.layers = nn.Sequential(*layers)
        self.out_features = out_features if out_features is not None else sizes[-1]

    @property
    def in_features(self) -> int | None:
        """Features per sample the MLP takes; `None` while a lazy first layer is unset."""
        if self._in_features is None:
            first = next((m for m in self.layers if isinstance(m, nn.Linear)), None)
            weight = None if first is None else first.weight
            if weight is not None and not isinstance(weight, nn.parameter.UninitializedParameter):
                self._in_features = weight.shape[1]
        return self._in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, ...) -> (N, out_features), the input flattened first."""
        width = self.in_features
        if width is None:  # lazy: the first layer takes whatever width comes
            return self.layers(x.flatten(1))
        if x.dim() != 2 or x.shape[1] != width:
            check_features(x, width, "MLP")
            x = x.flatten(1)
        return self.layers(x)
