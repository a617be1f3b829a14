"""What every zoo task shares: the network, its optimizer partials, epoch-level loss logging,
and the record that makes its checkpoints portable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning.pytorch as L
import torch
from torch import nn

OptimizerFactory = Callable[..., torch.optim.Optimizer]
SchedulerFactory = Callable[..., torch.optim.lr_scheduler.LRScheduler]


class ZooTask(L.LightningModule):
    """A LightningModule around `net`. Subclasses implement `_step(batch, stage) -> loss`.

    `optimizer` and `scheduler` are partials (Hydra `_partial_: true`) that receive the
    parameters / optimizer; without an optimizer the task can evaluate but not train.
    The training loss is summed on the device and logged once per epoch as `train/loss`
    (per-step logging would double the cost of a small model's step); other stages log
    `val/loss`, `test/loss` through `log_loss`.

    `checkpoint["zoo"]` holds the model config (`net.zoo_config`), the whole run config and the
    command that produced it, so `zoo.load_checkpoint` rebuilds the net without Hydra and
    `zoo.cli.publish` can evaluate and document it.
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        super().__init__()
        self.net = net
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.scheduler_interval = scheduler_interval
        self.train_loss_sum, self.train_count = torch.zeros(()), 0
        self.run_config: dict[str, Any] | None = None
        self.command: str | None = None

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        raise NotImplementedError

    def log_loss(self, stage: str, loss: torch.Tensor, batch_size: int) -> None:
        """Sum the training loss for the epoch's end; log other stages' loss per epoch."""
        if stage == "train":
            self.train_loss_sum = self.train_loss_sum.to(loss) + loss.detach() * batch_size
            self.train_count += batch_size
        else:
            self.log(
                f"{stage}/loss",
                loss,
                on_step=False,
                on_epoch=True,
                batch_size=batch_size,
                sync_dist=True,
            )

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def on_train_epoch_end(self) -> None:
        if self.train_count:
            self.log("train/loss", self.train_loss_sum / self.train_count, sync_dist=True)
        self.train_loss_sum, self.train_count = torch.zeros(()), 0

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        self._step(batch, "test")

    def optimizer_parameters(self) -> Any:
        """What the optimizer trains: every parameter, or param groups with their own settings."""
        return self.parameters()

    def configure_optimizers(self) -> Any:
        if self.optimizer_factory is None:
            raise ValueError(
                f"{type(self).__name__} was built without an optimizer: it can evaluate, not train"
            )
        optimizer = self.optimizer_factory(params=self.optimizer_parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": self.scheduler_interval},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {
            "model": getattr(self.net, "zoo_config", None),
            "run": self.run_config,
            "command": self.command,
        }
