"""A LightningDataModule for datasets that fit in memory: whole tensors, sliced into batches."""

from __future__ import annotations

import lightning.pytorch as L
import torch

from zoo.data.batches import TensorBatches

Split = tuple[torch.Tensor, torch.Tensor]


class InMemoryDataModule(L.LightningDataModule):
    """Subclasses implement `load()` -> {"train": (x, y), "val": ..., "test": ...}.

    Class attributes describe the data so configs can be checked against the model before
    training: `input_shape` (one sample), `problem` (binary / multilabel / multiclass) and
    `num_outputs` (logits the head must produce).
    """

    input_shape: tuple[int, ...] = ()
    problem: str = "multiclass"
    num_outputs: int = 1

    def __init__(self, batch_size: int | None = 64, eval_batch_size: int = 1024) -> None:
        super().__init__()
        if batch_size is not None and batch_size <= 0:
            raise ValueError(
                f"data.batch_size must be positive or null (full batch), got {batch_size}"
            )
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.splits: dict[str, Split] = {}

    def load(self) -> dict[str, Split]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if not self.splits:
            device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")
            self.splits = {k: (x.to(device), y.to(device)) for k, (x, y) in self.load().items()}

    def _batches(self, split: str, batch_size: int | None, shuffle: bool) -> TensorBatches:
        self.setup()
        trainer = self.trainer
        return TensorBatches(
            *self.splits[split],
            batch_size=batch_size,
            shuffle=shuffle,
            seed=int(torch.randint(2**62, ())),  # follows the run's seed_everything
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
        )

    def train_dataloader(self) -> TensorBatches:
        # `overfit_batches` must see the same batches every epoch: no shuffling then
        overfit = bool(self.trainer and self.trainer.overfit_batches)
        return self._batches("train", self.batch_size, shuffle=not overfit)

    def val_dataloader(self) -> TensorBatches:
        return self._batches("val", self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> TensorBatches:
        return self._batches("test", self.eval_batch_size, shuffle=False)

    def predict_dataloader(self) -> TensorBatches:
        return self.test_dataloader()
