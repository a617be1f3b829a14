"""A LightningDataModule for data larger than memory: samples streamed from shards (written by
`zoo-shards`, see `zoo.data.shards`) through Lightning's litdata, batch by batch.

    python train.py data=shards data.path=shards/digits
    dm = StreamingDataModule("shards/digits", batch_size=64, num_workers=2)

litdata does the serving: `StreamingDataset` reads the chunks (memory-mapped, prefetched by
the loader's workers), shuffles the chunks and the samples within each chunk every epoch from
`seed` (the shards' training split was written in random order, as that shuffle needs),
and under DDP gives each rank its own share of the chunks (equal shares: a few samples may
be dropped so that no rank waits on another). `StreamingDataLoader` is a DataLoader that
Lightning checkpoints and resumes mid-epoch. Each sample is scaled and standardised with the
training split's statistics stored with the shards, so the module knows its `spec()` and
`preprocessing_record()` without reading a sample, as an `InMemoryDataModule` does.

litdata is imported only when a loader is built (importing it takes ~1.5 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as L
import torch

from zoo.blocks.shapes import shape_spec
from zoo.data.base import overfitting
from zoo.data.shards import import_litdata, read_metadata
from zoo.utils.builder import register
from zoo.utils.preprocessing import PretrainedRecord, make_record


class ToModelInputs:
    """A stored sample `{"x", "y"}` -> `(model input, target)`: divided by `stored_max` and
    standardised with the training split's mean and std (inputs kept as stored when neither
    applies, as an in-memory module keeps them). Picklable, for the loader's workers."""

    def __init__(self, metadata: dict[str, Any]) -> None:
        self.stored_max = float(metadata["stored_max"])
        self.stats = None
        if metadata["standardize"]:
            shape = metadata["stats_shape"]
            mean = torch.tensor(metadata["mean"], dtype=torch.float32).view(shape)
            std = torch.tensor(metadata["std"], dtype=torch.float32).view(shape)
            self.stats = (mean, std)

    def __call__(self, sample: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x = sample["x"]
        if self.stored_max != 1.0 or self.stats is not None:
            x = x.float() / self.stored_max
        if self.stats is not None:
            x = (x - self.stats[0]) / self.stats[1]
        return x, sample["y"]


@register("data")
class StreamingDataModule(L.LightningDataModule):
    """Batches streamed from the shards in `path` (`<path>/train`, `val`, optionally `test`,
    and `shards.json`).

    `batch_size` trains, `eval_batch_size` validates and tests. `num_workers` loader processes
    read and decode ahead of the model (0: in the training process). `pin_memory` (default:
    when CUDA is available) speeds host-to-GPU copies. Training batches are shuffled when
    `shuffle`, from `seed` and the epoch; `seed=None` takes the run's seed (`seed_everything`),
    the same in every DDP process as litdata needs it.
    """

    def __init__(
        self,
        path: str | Path,
        batch_size: int = 64,
        eval_batch_size: int = 1024,
        num_workers: int = 2,
        pin_memory: bool | None = None,
        shuffle: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        for key, value in (("batch_size", batch_size), ("eval_batch_size", eval_batch_size)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"data.{key} must be a positive integer for streamed data, got {value}"
                )
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"data.num_workers must be an integer >= 0, got {num_workers}")
        self.path = Path(path)
        self.metadata = read_metadata(self.path)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.num_workers, self.shuffle, self.seed = num_workers, shuffle, seed
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        meta = self.metadata
        self.input_shape = tuple(meta["input_shape"])
        self.problem, self.num_outputs = meta["problem"], meta["num_outputs"]
        self.class_names = tuple(meta["class_names"]) if meta["class_names"] else None
        self.raw_max, self.threshold = meta["raw_max"], meta["threshold"]

    @property
    def has_test(self) -> bool:
        """Whether the shards have a test split."""
        return "test" in self.metadata["splits"]

    def spec(self) -> dict[str, Any]:
        """What a model config reads from the data (`${data_spec.*}`), from `shards.json`
        alone: as `InMemoryDataModule.spec`."""
        return {
            **shape_spec(self.input_shape),
            "problem": self.problem,
            "num_outputs": self.num_outputs,
        }

    def preprocessing_record(self) -> PretrainedRecord:
        """How raw samples become this data's model inputs (`zoo.utils.preprocessing.make_record`),
        from `shards.json` alone: the training split's statistics stored with the shards."""
        meta = self.metadata
        return make_record(
            self.input_shape,
            self.raw_max,
            meta["mean"],
            meta["std"],
            self.problem,
            self.class_names,
            self.threshold,
        )

    def dataset(self, split: str, shuffle: bool = False) -> Any:
        """The `litdata.StreamingDataset` of one split, serving `(model input, target)`."""
        if split not in self.metadata["splits"]:
            raise ValueError(f"{self.path} has no {split} split (it has {self.metadata['splits']})")
        seed = torch.initial_seed() if self.seed is None else self.seed
        return import_litdata().StreamingDataset(
            str(self.path / split),
            shuffle=shuffle,
            seed=seed % 2**32,
            transform=ToModelInputs(self.metadata),
            item_shuffle_window="full" if shuffle else None,  # any sample of a chunk, not of 256
        )

    def loader(self, split: str, batch_size: int, shuffle: bool = False) -> Any:
        """A `litdata.StreamingDataLoader` over one split. Under DDP litdata gives every rank
        as many training batches (a rank waiting on another's extra batch would hang), dropping
        what does not fill one; validation and test keep every sample (`drop_last=False`)."""
        return import_litdata().StreamingDataLoader(
            self.dataset(split, shuffle),
            batch_size=batch_size,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            drop_last=None if split == "train" else False,
        )

    def eval_batch_size_for(self, split: str) -> int:
        """`eval_batch_size`, or less under DDP: litdata deals whole batches to the ranks (the
        rest to the last), and every rank must get one, or the ranks' metric syncs would
        wait on each other forever."""
        world_size = self.trainer.world_size if self.trainer else 1
        share = self.metadata["splits"][split] // world_size
        return max(1, min(self.eval_batch_size, share))

    def train_dataloader(self) -> Any:
        # `overfit_batches` must see the same batches every epoch: no shuffling then
        overfit = overfitting(self.trainer)
        return self.loader("train", self.batch_size, shuffle=self.shuffle and not overfit)

    def val_dataloader(self) -> Any:
        return self.loader("val", self.eval_batch_size_for("val"))

    def test_dataloader(self) -> Any:
        return self.loader("test", self.eval_batch_size_for("test"))

    def predict_dataloader(self) -> Any:
        return self.test_dataloader()
