"""A two-modality task where neither input suffices: a digit image with a random half hidden,
and a short noisy tone whose pitch names the digit's pair ({0, 1}, {2, 3}, ..., {8, 9}).

The tone alone can tell at most the pair (50% at best); the half image is often ambiguous
(the top half of a 7 and of a 9); together they pin the digit down. Each bundled digit
appears `copies` times per split, with a fresh hidden half and tone each time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split
from zoo.data.digits import repeated_digit_splits
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

MODALITIES = ("image", "tone")


def hide_half(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Blank the top, bottom, left or right half of each (N, 1, H, W) image, at random."""
    n, _, h, w = images.shape
    side = torch.randint(4, (n,), generator=generator).view(n, 1, 1)
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    hidden = torch.stack(
        [
            (rows < h // 2).expand(n, h, w),
            (rows >= h // 2).expand(n, h, w),
            (cols < w // 2).expand(n, h, w),
            (cols >= w // 2).expand(n, h, w),
        ],
        1,
    )[torch.arange(n), side.view(n)]
    return images.masked_fill(hidden.unsqueeze(1), 0.0)


def tones(
    pitch: torch.Tensor, length: int, noise: float, generator: torch.Generator
) -> torch.Tensor:
    """(N, 1, length) sine waves of `pitch + 1` cycles per window, random phase and amplitude
    in [0.5, 1.5], plus Gaussian noise of std `noise`."""
    n = len(pitch)
    t = torch.arange(length) / length
    phase = torch.rand(n, 1, generator=generator) * 2 * math.pi
    amplitude = 0.5 + torch.rand(n, 1, generator=generator)
    wave = amplitude * torch.sin(2 * math.pi * (pitch[:, None] + 1) * t + phase)
    return (wave + noise * torch.randn(n, length, generator=generator)).unsqueeze(1)


@register("data")
class DigitTonesDataModule(InMemoryDataModule):
    """`(*inputs, digit)` with the inputs of `modalities` in that order: `image` (1, 8, 8) in
    [0, 1] with half hidden, `tone` (1, tone_length). The digit split is the 40/10/50 split of
    `DigitsDataModule`, so no test digit is seen in training.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`.
    """

    num_outputs = 10
    standardize_dims = None

    def __init__(
        self,
        modalities: Sequence[str] = MODALITIES,
        copies: int = 4,
        tone_length: int = 32,
        noise: float = 0.5,
        seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        super().__init__(**loading)
        modalities = tuple(modalities)
        if not modalities or any(m not in MODALITIES for m in modalities):
            raise ValueError(
                f"data.modalities={list(modalities)}: expected a non-empty subset of {list(MODALITIES)}"
            )
        if copies < 1:
            raise ValueError(f"data.copies must be >= 1, got {copies}")
        if tone_length < 8:
            raise ValueError(f"data.tone_length must be >= 8, got {tone_length}")
        self.modalities, self.copies, self.tone_length = modalities, copies, tone_length
        self.noise, self.seed = noise, seed
        shapes = {"image": (1, 8, 8), "tone": (1, tone_length)}
        self.input_shape = tuple(shapes[m] for m in modalities)

    def load_unit(self) -> dict[str, Split]:
        generator = torch.Generator().manual_seed(self.seed)
        splits = {}
        for split, (images, labels) in repeated_digit_splits(self.copies).items():
            inputs = {
                "image": hide_half(images, generator),
                "tone": tones(labels // 2, self.tone_length, self.noise, generator),
            }
            splits[split] = (*(inputs[m] for m in self.modalities), labels)
        return splits
