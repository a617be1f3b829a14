"""Digits rotated by a random angle, with several targets per image: a multi-task problem whose
losses live on different scales (cross-entropy ~1 for the class, squared degrees ~100s for
the angle), which is what breaks a naively weighted sum of losses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split
from zoo.data.digits import repeated_digit_splits
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

# name -> (problem, outputs)
TARGETS = {
    "digit": ("multiclass", 10),
    "angle": ("regression", 1),
    "parity": ("binary", 1),
    "large": ("binary", 1),  # digit >= 5
    "upright": ("regression", 64),  # the digit before rotation: a dense target
}


def rotate(images: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate (N, C, H, W) images about their centre, bilinear, zeros outside."""
    theta = torch.deg2rad(degrees)
    cos, sin, zero = theta.cos(), theta.sin(), torch.zeros_like(theta)
    affine = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(affine, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False)


@register("data")
class RotatedDigitsDataModule(InMemoryDataModule):
    """`(image, *targets)`: each bundled digit `copies` times per split, rotated by an angle
    uniform in [-max_angle, max_angle]; `targets` picks from digit, angle (degrees), parity,
    large (>= 5) and upright (the unrotated image in [0, 1], a dense target). Targets are float
    tensors; a single target makes a plain single-task problem (`targets=[digit]`: 10 classes,
    integer labels, 4x the images of `DigitsDataModule` with `copies=4`). `missing` hides that fraction of each training
    target (NaN), for tasks that must mask absent labels. The digit split is the 40/10/50 split
    of `DigitsDataModule`.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`.
    """

    input_shape = (1, 8, 8)
    problem = "multitask"

    def __init__(
        self,
        targets: Sequence[str] = ("digit", "angle"),
        max_angle: float = 45.0,
        copies: int = 4,
        missing: float = 0.0,
        seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        super().__init__(**loading)
        self.targets = tuple(targets)
        if not self.targets or any(t not in TARGETS for t in self.targets):
            raise ValueError(
                f"data.targets={list(self.targets)}: expected a non-empty subset of {list(TARGETS)}"
            )
        if not 0 < max_angle <= 180:
            raise ValueError(f"data.max_angle must lie in (0, 180], got {max_angle}")
        if not 0 <= missing < 1:
            raise ValueError(f"data.missing must lie in [0, 1), got {missing}")
        if copies < 1:
            raise ValueError(f"data.copies must be >= 1, got {copies}")
        self.max_angle, self.copies, self.missing, self.seed = max_angle, copies, missing, seed
        if len(self.targets) == 1:  # one target: the problem of that target alone
            self.problem, self.num_outputs = TARGETS[self.targets[0]]
            if self.problem == "multiclass":
                self.class_names = tuple(str(d) for d in range(10))
                if missing:
                    raise ValueError(
                        "data.missing must be 0 with the single target digit: a class label "
                        "cannot be NaN"
                    )

    def load_unit(self) -> dict[str, Split]:
        generator = torch.Generator().manual_seed(self.seed)
        splits = {}
        for split, (images, labels) in repeated_digit_splits(self.copies).items():
            angle = (torch.rand(len(labels), generator=generator) * 2 - 1) * self.max_angle
            values = {
                "digit": labels.float(),
                "angle": angle,
                "parity": (labels % 2).float(),
                "large": (labels >= 5).float(),
                "upright": images,
            }
            targets = []
            for name in self.targets:
                y = values[name].clone()
                if split == "train" and self.missing:
                    y[torch.rand(len(y), generator=generator) < self.missing] = (
                        math.nan
                    )  # per sample
                targets.append(y.long() if self.problem == "multiclass" else y)
            splits[split] = (rotate(images, angle), *targets)
        return splits
