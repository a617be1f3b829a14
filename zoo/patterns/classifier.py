"""The basic pattern: a feature extractor followed by an output head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from zoo.blocks.heads import Head, HeadLike, build_head
from zoo.blocks.shapes import check_shape, materialize, output_width
from zoo.patterns.interface import HasHead
from zoo.utils.builder import register


@register()
class Classifier(HasHead):
    """`head(backbone(x).flatten(1))` for inputs of shape `(N, *input_shape)`.

    `head` is a `Head` or a callable taking the backbone's output width (a Hydra partial), so a
    config never has to work out the flattened feature size by hand.
    `.head` is the `Head`: a plain loop trains with `net.head.loss(net(x), y)` and
    reads probabilities with `net.head.predict_proba(net(x))`.
    """

    def __init__(
        self,
        backbone: nn.Module,
        head: HeadLike,
        input_shape: Sequence[int],
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.backbone = backbone
        self.head = build_head(head, self.feature_size)
        materialize(self.backbone, self.input_shape)  # lazy layers, when the head came built

    def feature_size(self) -> int:
        """Width of the flattened backbone output, found by one dry run in eval mode."""
        return output_width(self.backbone, self.input_shape)

    def features_width(self) -> int:
        """Width of the flattened backbone output (a dry run), when no head says it."""
        return self.feature_size()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs `(N, *input_shape)` -> the flattened features the head reads (N, F)."""
        check_shape(x, self.input_shape, type(self).__name__)
        return self.backbone(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs `(N, *input_shape)` -> the head's logits (N,) or (N, num_outputs); the
        features themselves after `reset_classifier(0)`."""
        return self.head(self.forward_features(x))

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Class/label probabilities from the head's link function (sigmoid or softmax)."""
        return cast(Head, self.head).predict_proba(self(x))  # a reset (Identity) head has none
