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

READS = ("summary", "steps")


@register()
class SequenceModel(HasHead):
    """`head(encoder(x)[1])` for sequences (N, T, F): the encoder returns (per-step outputs,
    summary) as `RNNEncoder` does, and the head reads the summary.

    `channels_first=True` takes signals (N, C, L) instead, channels first as a `Conv1d` takes
    them (MNIST-1D's (1, 40)), and reads them as L steps of C features. `read="steps"` gives the
    head every step's outputs, flattened (N, T * D), instead of the summary (N, D): the GRU of
    Greydanus & Kobak 2020 reads its 40 bidirectional steps so.

    `.head`, the `Head` (or a callable taking the summary width: a Hydra partial), gives what
    a plain loop needs: `net.head.loss(net(x), y)` and `net.head.predict_proba(net(x))`.
    """

    def __init__(
        self,
        encoder: nn.Module,
        head: HeadLike,
        input_shape: Sequence[int],
        channels_first: bool = False,
        read: str = "summary",
    ) -> None:
        super().__init__()
        if read not in READS:
            raise ValueError(f"read={read!r}: expected one of {READS}")
        self.input_shape = tuple(int(s) for s in input_shape)
        if len(self.input_shape) != 2:
            layout = "(C, L)" if channels_first else "(T, F)"
            raise ValueError(
                f"SequenceModel takes sequences of shape {layout}, got input_shape "
                f"{list(self.input_shape)}"
            )
        self.channels_first, self.read = channels_first, read
        self.encoder = encoder
        self.head = build_head(head, self.features_width)

    def features_width(self) -> int:
        """Width of what the head reads: the encoder's summary width, times the steps when
        it reads every step."""
        width = cast(int, self.encoder.out_features)
        steps = self.input_shape[-1] if self.channels_first else self.input_shape[0]
        return width * steps if self.read == "steps" else width

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Sequences `(N, *input_shape)` -> what the head reads: the encoder's summary (N, D),
        or every step's outputs flattened (N, T * D)."""
        check_shape(x, self.input_shape, type(self).__name__)
        if self.channels_first:  # (N, C, L) -> L steps of C features
            x = x.transpose(1, 2)
        outputs, summary = self.encoder(x)
        return outputs.flatten(1) if self.read == "steps" else summary

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sequences `(N, *input_shape)` -> the head's logits."""
        return self.head(self.forward_features(x))
