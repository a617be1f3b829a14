"""Milliseconds per training step of one model, from a hand loop up to `train.py`'s stack.

Every row starts from the same initial weights, seeds the same dropout stream, draws the same
batch order (`TensorBatches`' order for the run's seed) and steps the same optimizer, so every
row does the same math and must end on the same training loss: `check_same_math` says so.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

if TYPE_CHECKING:
    from lightning.fabric.connector import _PRECISION_INPUT

    from zoo.blocks.heads import Head

SEED = 0


@dataclass
class Measurement:
    """One timed run of a row: ms per step, the last epoch's mean training loss, samples/s and
    the peak device memory (CUDA only)."""

    ms_per_step: float
    final_loss: float
    samples_per_s: float
    peak_memory_mb: float | None = None


@dataclass
class Workload:
    """A model and its training data, as `train.py` would build them from `overrides`."""

    overrides: list[str]
    epochs: int
    device: torch.device
    net: nn.Module  # initial weights, copied by every row
    x: torch.Tensor
    y: torch.Tensor
    batch_size: int
    optimizer: Callable[..., torch.optim.Optimizer]
    precision: str  # "32-true" or "bf16-mixed", as the trainer config says

    def fresh_net(self) -> nn.Module:
        return copy.deepcopy(self.net).to(self.device).train()

    def autocast(self) -> AbstractContextManager:
        if self.precision == "bf16-mixed":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()


def compose_workload(overrides: list[str], epochs: int, device: str) -> Workload:
    """Build the data and the net of `overrides` once (weights seeded with `SEED`)."""
    from zoo.training.fitting import build_net
    from zoo.training.run import build_node, compose

    cfg = compose(overrides, tempfile.gettempdir())
    torch.manual_seed(SEED)
    datamodule = build_node(cfg, "data")
    net = build_net(cfg, datamodule)
    datamodule.setup()
    x, y = datamodule.splits["train"]
    return Workload(
        overrides=overrides,
        epochs=epochs,
        device=torch.device(device),
        net=net,
        x=x.to(device),
        y=y.to(device),
        batch_size=cfg.data.batch_size,
        optimizer=build_node(cfg, "optimizer"),
        precision=str(cfg.trainer.get("precision", "32-true")),
    )


def epoch_order(n: int, epoch: int, device: torch.device) -> torch.Tensor:
    """The sample order of `epoch`: the permutation `TensorBatches` draws for seed `SEED`."""
    from zoo.data.batches import epoch_seed

    generator = torch.Generator().manual_seed(epoch_seed(SEED, epoch))
    return torch.randperm(n, generator=generator).to(device)


def resident_slices(w: Workload) -> Callable[[int], Iterator[tuple[torch.Tensor, ...]]]:
    """Plain PyTorch: index resident tensors with each epoch's permutation."""

    def batches(epoch: int) -> Iterator[tuple[torch.Tensor, ...]]:
        order = epoch_order(len(w.x), epoch, w.device)
        for i in range(0, len(order), w.batch_size):
            index = order[i : i + w.batch_size]
            yield w.x[index], w.y[index]

    return batches


def tensor_batches(w: Workload) -> Callable[[int], Iterator[tuple[torch.Tensor, ...]]]:
    from zoo.data.batches import TensorBatches

    batches = TensorBatches(w.x, w.y, batch_size=w.batch_size, shuffle=True, seed=SEED)
    return lambda epoch: iter(batches)


class EpochOrder(torch.utils.data.Sampler):
    """A sampler that yields each epoch's `epoch_order` (so a DataLoader sees the same batches)."""

    def __init__(self, n: int) -> None:
        self.n, self.epoch = n, 0

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        self.epoch += 1
        return iter(epoch_order(self.n, self.epoch - 1, torch.device("cpu")).tolist())


def dataloader(w: Workload) -> Callable[[int], Iterator[tuple[torch.Tensor, ...]]]:
    """`DataLoader(TensorDataset)`: a `__getitem__` per sample and a collate per batch."""
    from torch.utils.data import DataLoader, TensorDataset

    # its own generator: the loader's per-epoch base seed must not shift the dropout stream
    loader = DataLoader(
        TensorDataset(w.x, w.y),
        batch_size=w.batch_size,
        sampler=EpochOrder(len(w.x)),
        generator=torch.Generator(),
    )
    return lambda epoch: iter(loader)


def timed(w: Workload, run: Callable[[], tuple[int, float]]) -> Measurement:
    """Run `run() -> (steps, final loss)` on a seeded dropout stream and time it."""
    torch.manual_seed(SEED)
    if w.device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    steps, loss = run()
    if w.device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if w.device.type == "cuda" else None
    return Measurement(
        1000 * elapsed / steps, loss, steps * w.batch_size / elapsed if steps else 0.0, peak
    )


def epochs_of(
    w: Workload, batches: Callable[[int], Iterator], step: Callable[..., torch.Tensor]
) -> Callable[[], tuple[int, float]]:
    """A run of `w.epochs` epochs calling `step(x, y) -> loss` on every batch: (steps, the
    last epoch's mean loss)."""

    def run() -> tuple[int, float]:
        steps = 0
        for epoch in range(w.epochs):
            total, count = torch.zeros((), device=w.device), 0
            for x, y in batches(epoch):
                total += step(x, y).detach() * len(y)
                count += len(y)
                steps += 1
        return steps, float(total) / count

    return run


def hand_loop(w: Workload, batches_of: Callable[[Workload], Callable]) -> Measurement:
    """Forward, the head's loss, backward and an optimizer step over `batches_of(w)`."""
    net = w.fresh_net()
    optimizer = w.optimizer(params=net.parameters())

    def step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with w.autocast():
            loss = cast("Head", net.head).loss(net(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return timed(w, epochs_of(w, batches_of(w), step))


def fabric_loop(w: Workload) -> Measurement:
    """The hand loop through Lightning Fabric (its module and optimizer wrappers)."""
    from lightning.fabric import Fabric

    precision = cast("_PRECISION_INPUT", w.precision)  # Fabric rejects an unknown one
    fabric = Fabric(accelerator=w.device.type, devices=1, precision=precision)
    net = fabric.setup_module(w.fresh_net())
    optimizer = fabric.setup_optimizers(w.optimizer(params=net.parameters()))
    assert not isinstance(optimizer, tuple)  # one optimizer set up: Fabric returns it alone
    head = cast("Head", net.module.head)

    def step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        with fabric.autocast():
            loss = head.loss(net(x), y)
        fabric.backward(loss)
        optimizer.step()
        return loss

    return timed(w, epochs_of(w, resident_slices(w), step))


def trainer_flags(w: Workload) -> dict[str, Any]:
    """Lightning Trainer arguments with everything beyond the loop itself switched off."""
    return {
        "accelerator": w.device.type,
        "devices": 1,
        "precision": w.precision,
        "max_epochs": w.epochs,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
        "limit_val_batches": 0,
    }


def lightning_floor(w: Workload) -> Measurement:
    """The smallest LightningModule that trains the net (a training step, an optimizer, the
    epoch's loss): what Lightning's loop costs before anything the zoo adds."""
    import lightning.pytorch as L

    from zoo.data.batches import TensorBatches

    class Minimal(L.LightningModule):
        total: float | torch.Tensor  # the epoch's summed loss: 0.0, then a tensor

        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net, self.total, self.count = net, 0.0, 0

        def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
            x, y = batch
            loss = cast("Head", self.net.head).loss(self.net(x), y)
            self.total, self.count = self.total + loss.detach() * len(y), self.count + len(y)
            return loss

        def on_train_epoch_start(self) -> None:
            self.total, self.count = 0.0, 0

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return w.optimizer(params=self.parameters())

    module = Minimal(w.fresh_net())
    trainer = L.Trainer(**trainer_flags(w))
    batches = TensorBatches(w.x, w.y, batch_size=w.batch_size, shuffle=True, seed=SEED)

    def run() -> tuple[int, float]:
        trainer.fit(module, train_dataloaders=batches)
        return trainer.global_step, float(module.total) / module.count

    return timed(w, run)


def train_py(w: Workload, overrides: list[str]) -> Measurement:
    """`train.py`'s stack (`zoo.training.run.build`: data module, task, callbacks, logger) on the
    workload's initial weights, fit only."""
    from zoo.training.run import build, compose

    with tempfile.TemporaryDirectory() as out:
        cfg = compose([*w.overrides, *overrides, f"trainer.max_epochs={w.epochs}"], out)
        datamodule, task, trainer = build(cfg)
        datamodule.setup()  # the data is loaded before the clock starts, as in the hand loops
        task.net.load_state_dict(w.net.state_dict())

        def run() -> tuple[int, float]:
            trainer.fit(task, datamodule=datamodule)
            return trainer.global_step, float(trainer.callback_metrics["train/loss"])

        return timed(w, run)


LEAN = [
    "callbacks=none",
    "logger=none",
    "trainer.enable_checkpointing=false",
    "+trainer.limit_val_batches=0",
]


def rows(w: Workload) -> dict[str, Callable[[], Measurement]]:
    """The rows of one workload's table, the baseline first."""
    return {
        "hand loop, resident tensors (baseline)": lambda: hand_loop(w, resident_slices),
        "hand loop, zoo TensorBatches": lambda: hand_loop(w, tensor_batches),
        "hand loop, DataLoader(TensorDataset)": lambda: hand_loop(w, dataloader),
        "Lightning Fabric loop": lambda: fabric_loop(w),
        "Lightning Trainer, minimal module (the floor)": lambda: lightning_floor(w),
        "train.py lean (no val, ckpt, logger, bar)": lambda: train_py(w, LEAN),
        "train.py with the experiment's defaults": lambda: train_py(w, []),
    }


def check_same_math(results: dict[str, Measurement], tolerance: float) -> list[str]:
    """Rows whose final training loss differs from the baseline's by more than `tolerance`
    (relative): a row that did other math than the others would be timed unfairly."""
    base = next(iter(results.values())).final_loss
    return [
        f"{name}: final loss {m.final_loss:.6f} != baseline {base:.6f}"
        for name, m in results.items()
        if abs(m.final_loss - base) > tolerance * abs(base)
    ]
