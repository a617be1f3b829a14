"""A sequence encoder followed by a head: many-to-one sequence prediction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from zoo.blocks.heads import HeadLike, build_head
from zoo.blocks.shapes import check_shape
from zoo.patterns.interface import HasHead
from zoo.utils.builder import register


@register()
class SequenceModel(HasHead):
    """`head(encoder(x)[1])` for sequences (N, T, F): the encoder returns (per-step outputs,
    summary) as `RNNEncoder` does, and the head reads the summary.

    `.head`, the `Head` (or a callable taking the summary width: a Hydra partial), gives what
    a plain loop needs: `net.head.loss(net(x), y)` and `net.head.predict_proba(net(x))`.
    """

    def __init__(
        self,
        encoder: nn.Module,
        head: HeadLike,
        input_shape: Sequence[int],
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.encoder = encoder
        self.head = build_head(head, lambda: cast(int, encoder.out_features))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Sequences (N, *input_shape) -> the encoder's summary the head reads (N, F)."""
        check_shape(x, self.input_shape, type(self).__name__)
        return self.encoder(x)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sequences (N, *input_shape) -> the head's logits."""
        return self.head(self.forward_features(x))
