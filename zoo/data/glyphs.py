"""Generated Omniglot-like glyphs for one-shot learning: hundreds of classes, each a few random
pen strokes, with train, val and test drawn from disjoint classes.

A class is 2-4 quadratic Bezier strokes; each sample redraws them through a random affine map
(rotation, scale, shear, shift) with its control points jittered, so no two samples of a class
match pixel for pixel and raw-pixel nearest neighbours are a weak (but fair) baseline, as for
Omniglot in Koch et al. (2015).
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import torch

from zoo.data.base import ClassBalancedDataModule, LoaderOptions, Split, copies, split_sizes
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

MAX_STROKES, POINTS_PER_STROKE = 4, 32


def glyph_classes(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Control points (count, 4 strokes, 3, 2) in [-0.7, 0.7] and which strokes are drawn
    (count, 4): every class has 2-4 strokes, each starting where a previous one ends or anywhere."""
    points = (torch.rand(count, MAX_STROKES, 3, 2, generator=generator) * 2 - 1) * 0.7
    # half of the strokes start at the end of the stroke before, as pen strokes often do
    attach = torch.rand(count, MAX_STROKES, generator=generator) < 0.5
    for s in range(1, MAX_STROKES):
        points[:, s, 0] = torch.where(attach[:, s, None], points[:, s - 1, 2], points[:, s, 0])
    strokes = torch.randint(2, MAX_STROKES + 1, (count, 1), generator=generator)
    return points, torch.arange(MAX_STROKES) < strokes


def draw_glyphs(
    points: torch.Tensor,
    drawn: torch.Tensor,
    size: int,
    generator: torch.Generator,
    jitter: float = 0.06,
    chunk: int = 512,
) -> torch.Tensor:
    """Render one sample per row of `points` (N, 4, 3, 2) as (N, 1, size, size) in [0, 1]:
    jitter the control points, apply a random affine map, and ink a Gaussian pen along each
    drawn stroke."""
    n = len(points)
    points = points + torch.randn(points.shape, generator=generator) * jitter
    angle = (torch.rand(n, generator=generator) - 0.5) * math.radians(30)
    scale = 0.85 + 0.3 * torch.rand(n, 2, generator=generator)
    shear = (torch.rand(n, generator=generator) - 0.5) * 0.3
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 0.2
    cos, sin = angle.cos(), angle.sin()
    rotation = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    shear_scale = torch.zeros(n, 2, 2)
    shear_scale[:, 0, 0], shear_scale[:, 0, 1] = scale[:, 0], shear
    shear_scale[:, 1, 1] = scale[:, 1]
    affine = rotation @ shear_scale
    points = torch.einsum("nij,nspj->nspi", affine, points) + shift[:, None, None]

    t = torch.linspace(0, 1, POINTS_PER_STROKE).view(1, 1, -1, 1)
    p0, p1, p2 = points[:, :, None, 0], points[:, :, None, 1], points[:, :, None, 2]
    curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2  # (N, 4, P, 2) in ~[-1, 1]
    curve = (curve + 1) / 2 * size  # pixel coordinates
    far = torch.tensor(1e4)
    curve = torch.where(drawn[:, :, None, None], curve, far).flatten(1, 2)  # (N, 4P, 2)
    centres = torch.arange(size) + 0.5
    images = []
    for part in curve.split(chunk):
        dy = centres.view(1, size, 1, 1) - part[:, None, None, :, 0]
        dx = centres.view(1, 1, size, 1) - part[:, None, None, :, 1]
        ink = torch.exp(-(dy**2 + dx**2).amin(-1) / (2 * 0.8**2))
        images.append(ink)
    return torch.cat(images).unsqueeze(1)


@functools.lru_cache(maxsize=2)  # 2 s to draw: once per process for each setting
def generate_glyphs(
    classes: tuple[tuple[str, int], ...], samples_per_class: int, image_size: int, seed: int
) -> dict[str, Split]:
    """The splits' images (N, 1, size, size) and labels, `samples_per_class` of each of the
    classes of each split (`classes`: (split, count) pairs), all drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    splits: dict[str, Split] = {}
    for split, count in classes:
        points, drawn = glyph_classes(count, generator)
        label = torch.arange(count).repeat_interleave(samples_per_class)
        images = draw_glyphs(points[label], drawn[label], image_size, generator)
        splits[split] = (images, label)
    return splits


@register("data")
class GlyphsDataModule(ClassBalancedDataModule):
    """`(image, class)` for metric learning and one-shot tests: `classes` per split (disjoint),
    `samples_per_class` each. Training batches hold `classes_per_batch` classes with
    `batch_size / classes_per_batch` samples each, so every batch has positive pairs to learn from.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`;
    here `batch_size` 128 by default.
    """

    def __init__(
        self,
        classes: dict[str, int] | None = None,
        samples_per_class: int = 20,
        image_size: int = 20,
        seed: int = 0,
        classes_per_batch: int = 32,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        loading.setdefault("batch_size", 128)
        super().__init__(**loading)
        self.classes = split_sizes(classes, {"train": 480, "val": 60, "test": 120}, "data.classes")
        if samples_per_class < 2:
            raise ValueError(f"data.samples_per_class must be >= 2, got {samples_per_class}")
        if image_size < 12:
            raise ValueError(f"data.image_size must be >= 12, got {image_size}")
        self.balance_batches(classes_per_batch, samples_per_class)
        self.samples_per_class, self.image_size, self.seed = samples_per_class, image_size, seed
        self.input_shape = (1, image_size, image_size)
        self.num_outputs = self.classes["train"]

    def load_unit(self) -> dict[str, Split]:
        setting = (tuple(self.classes.items()), self.samples_per_class, self.image_size, self.seed)
        return copies(generate_glyphs(*setting))
