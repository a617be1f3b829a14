"""A multi-label task built from digits: 2x2 mosaics labelled with the set of digits shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split, split_sizes
from zoo.data.digits import check_fractions, load_digit_images, stratified_split
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack


def make_mosaics(
    images: torch.Tensor, labels: torch.Tensor, count: int, generator: torch.Generator
) -> Split:
    """`count` 16x16 images, each four random 8x8 digits; targets are 10-way multi-hot."""
    pick = torch.randint(len(images), (count, 4), generator=generator)
    tiles = images[pick, 0]  # (count, 4, 8, 8)
    top = torch.cat([tiles[:, 0], tiles[:, 1]], dim=2)
    bottom = torch.cat([tiles[:, 2], tiles[:, 3]], dim=2)
    x = torch.cat([top, bottom], dim=1).unsqueeze(1)
    y = torch.zeros(count, 10, dtype=torch.long).scatter_(1, labels[pick], 1)
    return x, y


@register("data")
class DigitMosaicsDataModule(InMemoryDataModule):
    """Multi-label digits: which of 0-9 appear in a 2x2 mosaic (one to four labels on).

    Mosaics of each split are drawn only from that split's digits, so no test digit is seen
    in training.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`.
    """

    input_shape = (1, 16, 16)
    raw_max = 16.0
    problem = "multilabel"
    num_outputs = 10
    class_names = tuple("0123456789")

    def __init__(
        self,
        sizes: dict[str, int] | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.5,
        split_seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        super().__init__(**loading)
        check_fractions(val_fraction, test_fraction)
        self.sizes = split_sizes(sizes, {"train": 6000, "val": 1000, "test": 2000})
        self.val_fraction, self.test_fraction, self.split_seed = (
            val_fraction,
            test_fraction,
            split_seed,
        )

    def load_unit(self) -> dict[str, Split]:
        x, y = load_digit_images()
        index = stratified_split(y, self.val_fraction, self.test_fraction, self.split_seed)
        generator = torch.Generator().manual_seed(self.split_seed)
        return {k: make_mosaics(x[i], y[i], self.sizes[k], generator) for k, i in index.items()}
