"""A sequence encoder followed by a head: many-to-one sequence prediction."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from zoo.blocks.heads import Head
from zoo.blocks.shapes import check_shape


class SequenceModel(nn.Module):
    """`head(encoder(x)[1])` for sequences (N, T, F): the encoder returns (per-step outputs,
    summary) as `RNNEncoder` does, and the head reads the summary.

    `head` may be a callable taking the summary width (a Hydra partial).
    """

    def __init__(
        self,
        encoder: nn.Module,
        head: Head | Callable[[int], Head],
        input_shape: Sequence[int],
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.encoder = encoder
        self.head = head if isinstance(head, nn.Module) else head(encoder.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_shape(x, self.input_shape, type(self).__name__)
        return self.head(self.encoder(x)[1])
