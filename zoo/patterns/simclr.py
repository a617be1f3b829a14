"""Self-supervised Siamese pretraining (SimCLR, Chen et al. 2020): the supervised Siamese
net's modern form. Two random views of one image go through one shared backbone and a
projection head; a contrastive loss pulls the pair together and pushes the batch's other
images away, so no label is needed. What transfers is the backbone, not the projection."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.mlp import MLP
from zoo.blocks.shapes import check_shape, output_width
from zoo.utils.builder import register


@register()
class SimCLR(nn.Module):
    """`projection(backbone(x))`: forward gives the projections (N, projection_dim) the loss
    compares; `features(x)` the backbone's flattened output, which a probe or a classifier
    reads. The backbone is kept as `.backbone`, as in `Classifier`, so a classifier takes the
    pretrained weights by prefix: `zoo.load_pretrained(clf.backbone, src, prefix="backbone.")`."""

    def __init__(
        self,
        backbone: nn.Module,
        input_shape: Sequence[int],
        projection_dim: int = 64,
        hidden_dim: int = 128,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.backbone = backbone
        self.feature_size = output_width(backbone, self.input_shape)
        self.projection = MLP(self.feature_size, [hidden_dim], projection_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, *input_shape)` -> the backbone's features (N, feature_size)."""
        check_shape(x, self.input_shape, type(self).__name__)
        return self.backbone(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, *input_shape)` -> projections (N, projection_dim)."""
        return self.projection(self.features(x))
