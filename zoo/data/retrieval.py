"""Key-value retrieval, generated: a set of (key, value) pairs and a query key; the answer is
the value stored under that key. Reading one item out of many by content is what attention
does (Graves et al. 2014; Vaswani et al. 2017); a model that pools the set uniformly must
squeeze every pair into one vector."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split, split_sizes
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack


def retrieval_task(
    count: int, num_keys: int, num_values: int, num_pairs: int, generator: torch.Generator
) -> Split:
    """Items (count, pairs, keys + values) one-hot, queries (count, keys) one-hot, answers."""
    keys = torch.rand(count, num_keys, generator=generator).argsort(1)[:, :num_pairs]  # distinct
    values = torch.randint(0, num_values, (count, num_pairs), generator=generator)
    asked = torch.randint(0, num_pairs, (count,), generator=generator)
    rows = torch.arange(count)
    items = torch.cat([torch.eye(num_keys)[keys], torch.eye(num_values)[values]], dim=-1)
    return items, torch.eye(num_keys)[keys[rows, asked]], values[rows, asked]


@register("data")
class KeyValueRetrievalDataModule(InMemoryDataModule):
    """(items, query) -> value; chance accuracy is 1 / num_values.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`.
    """

    problem = "multiclass"
    standardize_dims = None

    def __init__(
        self,
        num_keys: int = 32,
        num_values: int = 10,
        num_pairs: int = 16,
        sizes: dict[str, int] | None = None,
        seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        super().__init__(**loading)
        if not 1 <= num_pairs <= num_keys:
            raise ValueError(
                f"data.num_pairs must lie in [1, num_keys={num_keys}], got {num_pairs}"
            )
        self.sizes = split_sizes(sizes, {"train": 20000, "val": 1000, "test": 2000})
        self.num_keys, self.num_values, self.num_pairs, self.seed = (
            num_keys,
            num_values,
            num_pairs,
            seed,
        )
        self.num_outputs = num_values
        self.input_shape = ((num_pairs, num_keys + num_values), (num_keys,))

    def load_unit(self) -> dict[str, Split]:
        generator = torch.Generator().manual_seed(self.seed)
        return {
            k: retrieval_task(n, self.num_keys, self.num_values, self.num_pairs, generator)
            for k, n in self.sizes.items()
        }
