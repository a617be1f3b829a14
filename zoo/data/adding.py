"""The adding problem (Hochreiter & Schmidhuber 1997): a long-range memory task, generated.

Each sequence has T steps of (value, marker): values uniform in [0, 1], exactly two markers
set, one in each half. The target is the sum of the two marked values, so a model must carry
the first marked value across up to T steps. Predicting the mean (1.0) scores MSE ~0.167.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split, split_sizes
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack


def adding_problem(count: int, length: int, generator: torch.Generator) -> Split:
    """`count` sequences (count, length, 2) and their targets (count,)."""
    values = torch.rand(count, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (count,), generator=generator)
    second = torch.randint(half, length, (count,), generator=generator)
    markers = torch.zeros(count, length)
    rows = torch.arange(count)
    markers[rows, first] = markers[rows, second] = 1.0
    return torch.stack([values, markers], dim=-1), values[rows, first] + values[rows, second]


@register("data")
class AddingProblemDataModule(InMemoryDataModule):
    """Generated adding-problem splits of sequence length `length` (fixed by `seed`).

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`.
    """

    problem = "regression"
    num_outputs = 1
    standardize_dims = None  # values already lie in [0, 1]

    def __init__(
        self,
        length: int = 50,
        sizes: dict[str, int] | None = None,
        seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        super().__init__(**loading)
        if length < 2:
            raise ValueError(f"data.length must be >= 2, got {length}")
        self.sizes = split_sizes(sizes, {"train": 10000, "val": 1000, "test": 2000})
        self.length, self.seed = length, seed
        self.input_shape = (length, 2)

    def load_unit(self) -> dict[str, Split]:
        generator = torch.Generator().manual_seed(self.seed)
        return {k: adding_problem(n, self.length, generator) for k, n in self.sizes.items()}
