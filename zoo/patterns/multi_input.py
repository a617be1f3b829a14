"""Multi-input (multi-modal) networks: a different encoder per input, fused, then a head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from zoo.blocks.fusion import Fusion
from zoo.blocks.heads import HeadLike, build_head
from zoo.blocks.mlp import MLP
from zoo.blocks.shapes import check_shape, output_width
from zoo.patterns.interface import HasHead
from zoo.utils.builder import register


@register()
class MultiInput(HasHead):
    """`head(MLP(fusion(encoder_1(x_1), ..., encoder_M(x_M))))`.

    `encoders` and `input_shapes` are keyed by input name; `modalities` picks which of them
    the model uses, in the order the data gives them (all, by default), so one config serves
    the fused model and each single-modality baseline. `fusion` is one of
    `zoo.blocks.fusion.FUSIONS`; `hidden` the widths of the MLP after it. `head` may be a
    callable taking the MLP's output width (a Hydra partial).
    `.head` is the `Head`: a plain loop trains with `net.head.loss(net(*inputs), y)` and
    reads probabilities with `net.head.predict_proba(net(*inputs))`.
    """

    def __init__(
        self,
        encoders: Mapping[str, nn.Module],
        input_shapes: Mapping[str, Sequence[int]],
        head: HeadLike,
        fusion: str = "concat",
        modalities: Sequence[str] | None = None,
        dim: int = 64,
        hidden: Sequence[int] = (64,),
    ) -> None:
        super().__init__()
        modalities = list(modalities or encoders)
        unknown = [m for m in modalities if m not in encoders or m not in input_shapes]
        if unknown or not modalities:
            raise ValueError(
                f"modalities={modalities}: each needs an encoder and an input shape, have "
                f"encoders {sorted(encoders)} and input_shapes {sorted(input_shapes)}"
            )
        self.modalities = modalities
        self.input_shape = tuple(tuple(int(s) for s in input_shapes[m]) for m in modalities)
        self.encoders = nn.ModuleDict({m: encoders[m] for m in modalities})
        widths = [
            output_width(self.encoders[m], shape)
            for m, shape in zip(modalities, self.input_shape, strict=True)
        ]
        self.fusion = Fusion(fusion, widths, dim)
        self.mlp = MLP(self.fusion.out_features, hidden) if hidden else nn.Identity()
        out = hidden[-1] if hidden else self.fusion.out_features
        self.head = build_head(head, out)

    def forward_features(self, *inputs: torch.Tensor) -> torch.Tensor:
        """One batch per modality, in `modalities` order -> the fused features the head reads."""
        if len(inputs) != len(self.modalities):
            raise ValueError(
                f"{type(self).__name__} takes {len(self.modalities)} inputs "
                f"({', '.join(self.modalities)}), got {len(inputs)}"
            )
        features = []
        for m, shape, x in zip(self.modalities, self.input_shape, inputs, strict=True):
            check_shape(x, shape, f"{type(self).__name__} input {m!r}")
            features.append(self.encoders[m](x).flatten(1))
        return self.mlp(self.fusion(*features))

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """One tensor per modality, in `modalities` order -> the head's outputs."""
        return self.head(self.forward_features(*inputs))
