"""Images per second that reach the training loop: from litdata shards (`StreamingDataModule`,
with and without loader workers) against whole tensors in memory (the baseline)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

EPOCHS, BATCH = 5, 256


def images_per_second(loader: Callable[[], Iterable]) -> float:
    """Every training batch of `EPOCHS` epochs, as a training loop would pull them."""
    start, images = time.perf_counter(), 0
    for _ in range(EPOCHS):
        for _, y in loader():
            images += len(y)
    return images / (time.perf_counter() - start)


def streaming_rows(folder: Path) -> dict[str, Callable[[], float]]:
    """The digits' 90% training split (1617 images, 8x8) in memory and as shards written here."""
    from zoo.data import DigitsDataModule, StreamingDataModule, shards_from_datamodule

    def digits() -> DigitsDataModule:
        return DigitsDataModule(val_fraction=0.05, test_fraction=0.05, batch_size=BATCH)

    memory = digits()
    memory.setup()
    shards = folder / "digits_shards"
    shards_from_datamodule(digits(), shards, overwrite=True)

    def streamed(workers: int) -> Callable[[], float]:
        module = StreamingDataModule(shards, batch_size=BATCH, num_workers=workers)
        return lambda: images_per_second(module.train_dataloader)

    return {
        "in memory, TensorBatches (baseline)": lambda: images_per_second(memory.train_dataloader),
        "litdata shards, no workers": streamed(0),
        "litdata shards, 2 workers": streamed(2),
    }
