"""Visual question answering on small scenes: an image and a question vector in, an answer out.

`FiLMVQA` lets the question modulate every channel of the visual features (Perez et al. 2018);
`ConcatVQA` is the classic baseline that only appends the question to the pooled image features.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.film import FiLMConvBlock
from zoo.blocks.heads import HeadLike, build_head
from zoo.blocks.residual import ResidualConvBlock
from zoo.blocks.shapes import check_shape
from zoo.patterns.interface import HasHead
from zoo.utils.builder import register


def conv_stem(in_channels: int, channels: int) -> nn.Sequential:
    """Two stride-2 3x3 convolutions: a quarter of the resolution, `channels` maps."""
    layers: list[nn.Module] = []
    for c_in in (in_channels, channels):
        layers += [
            nn.Conv2d(c_in, channels, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        ]
    return nn.Sequential(*layers)


class _VQA(HasHead):
    """What both VQA models share: an (image, question) input shape and its check."""

    def __init__(self, input_shape: Sequence[Sequence[int]]) -> None:
        super().__init__()
        image_shape, question_shape = (tuple(int(s) for s in shape) for shape in input_shape)
        self.input_shape = (image_shape, question_shape)

    def forward_features(self, image: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) and questions (N, Q) -> the features the head reads."""
        raise NotImplementedError

    def forward(self, image: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) and questions (N, Q) -> the head's logits."""
        return self.head(self.forward_features(image, question))

    def check(self, image: torch.Tensor, question: torch.Tensor) -> None:
        """Raise unless image is (N, C, H, W) and question (N, Q) as `input_shape` says."""
        check_shape(image, self.input_shape[0], f"{type(self).__name__} image")
        check_shape(question, self.input_shape[1], f"{type(self).__name__} question")


def with_coordinates(x: torch.Tensor) -> torch.Tensor:
    """Append two channels holding each pixel's (row, column) in [-1, 1] (CoordConv, Liu et
    al. 2018), so that pooled features can still say where something was."""
    n, _, h, w = x.shape
    rows = torch.linspace(-1, 1, h, device=x.device).view(1, 1, h, 1).expand(n, 1, h, w)
    cols = torch.linspace(-1, 1, w, device=x.device).view(1, 1, 1, w).expand(n, 1, h, w)
    return torch.cat([x, rows, cols], dim=1)


@register()
class FiLMVQA(_VQA):
    """Stem -> FiLM-ed residual blocks conditioned on the question (with coordinate maps, as
    in Perez et al.) -> 1x1 conv, global max pool -> MLP -> head. `.head` is the answer's
    `Head` (a plain loop: `net.head.loss(net(image, question), y)`, `net.head.predict(...)`);
    `head` may be a callable taking the feature width (a Hydra partial)."""

    def __init__(
        self,
        input_shape: Sequence[Sequence[int]],
        head: HeadLike,
        channels: int = 32,
        num_blocks: int = 2,
        hidden: int = 64,
    ) -> None:
        super().__init__(input_shape)
        (c, _, _), (question_dim,) = self.input_shape
        self.stem = conv_stem(c, channels)
        self.blocks = nn.ModuleList(
            FiLMConvBlock(channels + 2, channels, question_dim) for _ in range(num_blocks)
        )
        self.classifier = nn.Sequential(
            nn.Conv2d(channels + 2, hidden, 1),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(1),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
        )
        self.head = build_head(head, hidden)

    def forward_features(self, image: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """image (N, C, H, W), question (N, Q) -> the head's logits."""
        self.check(image, question)
        x = self.stem(image)
        for block in self.blocks:
            x = block(with_coordinates(x), question)
        return self.classifier(with_coordinates(x))


@register()
class ConcatVQA(_VQA):
    """Stem -> residual blocks -> flatten -> concatenate the question -> MLP -> head: the
    baseline. `head` may be a callable taking the width `hidden`; `.head` is as in `FiLMVQA`."""

    def __init__(
        self,
        input_shape: Sequence[Sequence[int]],
        head: HeadLike,
        channels: int = 32,
        num_blocks: int = 2,
        hidden: int = 128,
    ) -> None:
        super().__init__(input_shape)
        (c, h, w), (question_dim,) = self.input_shape
        self.stem = conv_stem(c, channels)
        self.blocks = nn.Sequential(*(ResidualConvBlock(channels) for _ in range(num_blocks)))
        flat = channels * ((h + 3) // 4) * ((w + 3) // 4)
        self.mlp = nn.Sequential(
            nn.Linear(flat + question_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.head = build_head(head, hidden)

    def forward_features(self, image: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """image (N, C, H, W), question (N, Q) -> the head's logits."""
        self.check(image, question)
        features = self.blocks(self.stem(image)).flatten(1)
        return self.mlp(torch.cat([features, question], dim=1))
