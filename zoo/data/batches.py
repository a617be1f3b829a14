"""Batches sliced from tensors that already sit in memory (or on the GPU).

For datasets that fit in memory this replaces `DataLoader(TensorDataset(...))`: no
per-sample `__getitem__`, no collate, one index op per batch. Under DDP each rank takes every
`world_size`-th sample of the shared permutation, as `DistributedSampler` would.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


class TensorBatches:
    """Iterate over `(x[i], y[i])` batches; `batch_size=None` gives one full batch (GD)."""

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int | None,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError(
                f"tensors must share their first dimension, got {[len(t) for t in tensors]}"
            )
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size must be positive or None (full batch), got {batch_size}")
        self.tensors = tensors
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must lie in [0, {world_size}), got {rank}")
        # Every rank gets the same number of samples, so no rank waits on another's extra batch.
        self.num_samples = len(tensors[0]) // world_size
        self.batch_size = batch_size or self.num_samples
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rank, self.world_size = rank, world_size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order[self.rank :: self.world_size][: self.num_samples]
        order = order.to(self.tensors[0].device)
        for i in range(len(self)):
            index = order[i * self.batch_size : (i + 1) * self.batch_size]
            yield tuple(t[index] for t in self.tensors)
