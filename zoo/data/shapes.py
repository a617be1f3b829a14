"""Generated shapes for dense prediction: noisy grey images of one to three discs, squares and
triangles, and per-pixel labels (0 background, 1 disc, 2 square, 3 triangle). Naming a pixel
needs the whole shape around it (context) and its exact edge (detail)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split, split_sizes
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

SHAPES = ("background", "disc", "square", "triangle")


def draw_shapes(
    count: int, size: int, max_shapes: int, noise: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (count, 1, size, size) in [0, 1] and labels (count, size, size). Each shape has
    a random kind, radius (3-7 px), centre and grey level (0.4-1); later shapes cover earlier
    ones; Gaussian noise of std `noise` is added everywhere."""

    def uniform(low: float | torch.Tensor, high: float | torch.Tensor) -> torch.Tensor:
        return low + (high - low) * torch.rand(count, 1, 1, generator=generator)

    grid = torch.arange(size).float()
    image = torch.zeros(count, size, size)
    label = torch.zeros(count, size, size, dtype=torch.long)
    shapes = torch.randint(1, max_shapes + 1, (count, 1, 1), generator=generator)
    for slot in range(max_shapes):
        kind = torch.randint(1, len(SHAPES), (count, 1, 1), generator=generator)
        radius = uniform(3.0, 7.0)
        dy = grid.view(1, size, 1) - uniform(radius, size - 1 - radius)
        dx = grid.view(1, 1, size) - uniform(radius, size - 1 - radius)
        disc = dx**2 + dy**2 <= radius**2
        square = (dx.abs() <= 0.85 * radius) & (dy.abs() <= 0.85 * radius)
        triangle = (dy.abs() <= radius) & (dx.abs() <= (dy + radius) / 2)
        mask = torch.where(kind == 1, disc, torch.where(kind == 2, square, triangle))
        mask &= slot < shapes
        image = torch.where(mask, uniform(0.4, 1.0), image)
        label = torch.where(mask, kind, label)
    image = (image + noise * torch.randn(image.shape, generator=generator)).clamp(0, 1)
    return image.unsqueeze(1), label


@register("data")
class ShapesDataModule(InMemoryDataModule):
    """Segmentation of generated shapes: `(image, per-pixel label)` batches, 4 classes.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`;
    here `eval_batch_size` 500 by default.
    """

    problem = "segmentation"
    num_outputs = len(SHAPES)
    standardize_dims = None  # pixels already lie in [0, 1]

    def __init__(
        self,
        image_size: int = 32,
        max_shapes: int = 3,
        noise: float = 0.2,
        sizes: dict[str, int] | None = None,
        seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        loading.setdefault("eval_batch_size", 500)
        super().__init__(**loading)
        if image_size < 16 or max_shapes < 1 or noise < 0:
            raise ValueError(
                "data.image_size must be >= 16, data.max_shapes >= 1 and data.noise >= 0, got "
                f"{image_size}, {max_shapes}, {noise}"
            )
        self.sizes = split_sizes(sizes, {"train": 4000, "val": 500, "test": 1000})
        self.image_size, self.max_shapes, self.noise, self.seed = (
            image_size,
            max_shapes,
            noise,
            seed,
        )
        self.input_shape = (1, image_size, image_size)

    def load_unit(self) -> dict[str, Split]:
        generator = torch.Generator().manual_seed(self.seed)
        return {
            k: draw_shapes(n, self.image_size, self.max_shapes, self.noise, generator)
            for k, n in self.sizes.items()
        }
