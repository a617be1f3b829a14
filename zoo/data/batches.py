"""Batches sliced from tensors that already sit in memory (or on the GPU).

For datasets that fit in memory this replaces `DataLoader(TensorDataset(...))`: no
per-sample `__getitem__`, no collate, one index op per batch. Under DDP each rank takes every
`world_size`-th sample of the shared permutation, as `DistributedSampler` would.

An epoch's order is a pure function of (seed, epoch, rank): a resumed run draws the batches
that the uninterrupted run would have drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch


def epoch_seed(seed: int, epoch: int) -> int:
    """A seed for one epoch's order, mixed from the run's seed and the epoch by numpy's
    `SeedSequence` (made for this: nearby inputs give unrelated streams)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1)


class TensorBatches:
    """Iterate over `(x[i], y[i])` batches; `batch_size=None` gives one full batch (GD).

    `position()`, read as each pass starts, says which epoch it is and how many of its batches
    were already trained on (a resumed run); by default passes count epochs from 0."""

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int | None,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        position: Callable[[], tuple[int, int]] | None = None,
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
        self.seed, self.passes, self.position = seed, 0, position
        self.generator = torch.Generator()

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def order(self) -> torch.Tensor:
        """This rank's sample indices for the epoch `generator` was seeded for, in batch order."""
        n = len(self.tensors[0])
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        return order[self.rank :: self.world_size][: self.num_samples]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        epoch, done = self.position() if self.position else (self.passes, 0)
        self.passes += 1
        self.generator.manual_seed(epoch_seed(self.seed, epoch))
        order = self.order().to(self.tensors[0].device)
        for i in range(done, len(self)):
            index = order[i * self.batch_size : (i + 1) * self.batch_size]
            yield tuple(t[index] for t in self.tensors)


class ClassBalancedBatches(TensorBatches):
    """Shuffled batches of `classes_per_batch` classes x `samples_per_class` samples each (the
    "PK" batches of metric learning, Hermans et al. 2017), so that every batch holds positive
    pairs. The last tensor holds the class labels; a class's samples left over after its
    groups of `samples_per_class` are dropped that epoch. Under DDP each rank takes every
    `world_size`-th batch."""

    def __init__(
        self,
        *tensors: torch.Tensor,
        classes_per_batch: int,
        samples_per_class: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        position: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(
            *tensors,
            batch_size=classes_per_batch * samples_per_class,
            shuffle=True,
            drop_last=True,
            seed=seed,
            rank=rank,
            world_size=world_size,
            position=position,
        )
        labels = tensors[-1].cpu()
        self.by_class = [torch.nonzero(labels == c).squeeze(1) for c in labels.unique()]
        self.samples_per_class = samples_per_class
        groups = sum(len(i) // samples_per_class for i in self.by_class)
        if groups < classes_per_batch:
            raise ValueError(
                f"{groups} groups of {samples_per_class} same-class samples cannot fill a batch "
                f"of {classes_per_batch} classes"
            )
        self.num_samples = groups // classes_per_batch // world_size * self.batch_size

    def order(self) -> torch.Tensor:
        k = self.samples_per_class
        per_class = []
        for index in self.by_class:
            shuffled = index[torch.randperm(len(index), generator=self.generator)]
            per_class.append(shuffled[: len(index) // k * k].view(-1, k))
        groups = torch.cat(per_class)
        groups = groups[torch.randperm(len(groups), generator=self.generator)]
        batches = groups[: len(groups) // (self.batch_size // k) * (self.batch_size // k)]
        batches = batches.view(-1, self.batch_size)[self.rank :: self.world_size]
        return batches.flatten()[: self.num_samples]
