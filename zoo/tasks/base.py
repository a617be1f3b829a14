"""What every zoo task shares: the network, its optimizer partials, per-stage metrics,
epoch-level logging, and the record that makes its checkpoints portable."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import lightning.pytorch as L
import torch
from torch import nn
from torchmetrics import MetricCollection

from zoo.tasks.random_states import random_states, restore_random_states
from zoo.utils.preprocessing import PretrainedRecord

if TYPE_CHECKING:
    from typing import Protocol

    class CarriesRecord(Protocol):
        """A net with the preprocessing record of the data it was trained on."""

        pretrained_cfg: PretrainedRecord


OptimizerFactory = Callable[..., torch.optim.Optimizer]
SchedulerFactory = Callable[..., torch.optim.lr_scheduler.LRScheduler]


def _plain_record(record: Any) -> Any:
    """A net's preprocessing record as a checkpoint stores it: plain values (`to_dict()`), which
    a tensors-only load reads back; anything else as it is."""
    return record.to_dict() if isinstance(record, PretrainedRecord) else record


class ZooTask(L.LightningModule):
    """A LightningModule around `net`. Subclasses implement `_step(batch, stage) -> loss`.

    `optimizer` and `scheduler` are partials (Hydra `_partial_: true`) that receive the
    parameters / optimizer; without an optimizer the task can evaluate but not train.
    The training loss is summed on the device and logged once per epoch as `train/loss`
    (per-step logging would double the cost of a small model's step); other stages log
    `val/loss`, `test/loss` through `log_loss`; `log_epoch` logs any other value per epoch.

    A subclass states what it needs of the net in `check_net`, adds its own arguments as
    keyword-only ones and passes `optimizer`, `scheduler` and `scheduler_interval` on
    (`**kwargs`). `add_metrics` keeps a torchmetrics collection per stage in `self.metrics`
    (logged as `stage/acc`, ...); `update_metrics` updates it and `log_metrics` logs it once
    per epoch.

    `checkpoint["zoo"]` holds the model config (`net.zoo_config`), the preprocessing record of
    the data (`net.pretrained_cfg`), the whole run config and the command that produced it,
    so `zoo.load_checkpoint` rebuilds the net without Hydra and `zoo.cli.publish` can evaluate
    and document it.
    """

    # what the net's outputs are when they are not answers to the data's labels
    produces: str | None = None
    # names the task logs besides `{stage}/loss` and its metric collections ("{stage}": each)
    logged: tuple[str, ...] = ()

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        self.check_net(net)
        super().__init__()
        self.net = net
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.scheduler_interval = scheduler_interval
        self.train_loss_sum, self.train_count = torch.zeros(()), 0
        self.run_config: dict[str, Any] | None = None
        self.command: str | None = None
        # keys get a suffix: a ModuleDict key may not shadow nn.Module.train
        self.metrics = nn.ModuleDict()

    @classmethod
    def check_net(cls, net: nn.Module) -> None:
        """Raise a TypeError naming what `net` lacks for this task (any net fits here)."""

    def add_metrics(
        self,
        metrics: MetricCollection,
        stages: Sequence[str] = ("val", "test"),
        name: str | None = None,
    ) -> None:
        """Keep a copy of `metrics` for each stage, logged as `stage/<metric>` (or
        `stage/<name>/<metric>` for a named group, e.g. one per head)."""
        for stage in stages:
            prefix = f"{stage}/{name}/" if name else f"{stage}/"
            self.metrics[f"{stage}_{name or 'metrics'}"] = metrics.clone(prefix=prefix)

    def metric_names(self) -> set[str] | None:
        """Every name this task may log, known before training (to check `optimized_metric`
        then), or None when the names depend on what training sees."""
        stages = ("train", "val", "test")
        names = {f"{stage}/loss" for stage in stages}
        names |= {name.format(stage=stage) for name in self.logged for stage in stages}
        for metrics in self.metrics.values():
            # the logged names: strings, which torchmetrics types as Hashable
            keys = cast(MetricCollection, metrics).keys()
            names |= set(cast(Iterable[str], keys))
        return names

    def update_metrics(
        self,
        stage: str,
        preds: torch.Tensor,
        target: torch.Tensor,
        name: str | None = None,
    ) -> None:
        """Update the stage's metrics, if the task keeps them for that stage; they are logged
        when the epoch ends (`log_metrics`)."""
        key = f"{stage}_{name or 'metrics'}"
        if key in self.metrics:
            cast(MetricCollection, self.metrics[key]).update(preds, target)

    def log_metrics(self, stage: str) -> None:
        """Compute (across processes), log and reset the stage's metrics: one log call per
        metric and epoch, where logging the metric objects at every step would cost a small
        model more than its steps."""
        for key, module in self.metrics.items():
            metrics = cast(MetricCollection, module)
            if key.startswith(f"{stage}_") and any(m.update_called for m in metrics.values()):
                self.log_dict(metrics.compute())
                metrics.reset()

    def log_epoch(self, values: Mapping[str, torch.Tensor], batch_size: int) -> None:
        """Log `{"stage/name": value}` as epoch means, weighted by batch size."""
        self.log_dict(
            dict(values), on_step=False, on_epoch=True, batch_size=batch_size, sync_dist=True
        )

    def forward(self, *inputs: torch.Tensor) -> Any:
        """The net's outputs: a task is called like the network it trains."""
        return self.net(*inputs)

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        raise NotImplementedError

    def log_loss(self, stage: str, loss: torch.Tensor, batch_size: int) -> None:
        """Sum the training loss for the epoch's end; log other stages' loss per epoch."""
        if stage == "train":
            self.train_loss_sum = self.train_loss_sum.to(loss) + loss.detach() * batch_size
            self.train_count += batch_size
        else:
            self.log_epoch({f"{stage}/loss": loss}, batch_size)

    def training_step(
        self, batch: tuple[torch.Tensor, ...], batch_idx: int
    ) -> torch.Tensor | None:  # None where a subclass optimizes by hand (GANTask)
        return self._step(batch, "train")

    def on_train_epoch_end(self) -> None:
        if self.train_count:
            self.log("train/loss", self.train_loss_sum / self.train_count, sync_dist=True)
        self.train_loss_sum, self.train_count = torch.zeros(()), 0
        self.log_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self.log_metrics("val")

    def on_test_epoch_end(self) -> None:
        self.log_metrics("test")

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

    @classmethod
    def record_for(cls, datamodule: Any) -> PretrainedRecord:
        """The preprocessing record a net trained by this task on `datamodule` carries: the
        data's, with the problem the task's outputs answer when it is not the data's labels
        (`produces`: a reconstruction, samples, a density)."""
        where = f"{type(datamodule).__name__}.preprocessing_record()"
        record = PretrainedRecord.from_dict(datamodule.preprocessing_record(), where=where)
        if cls.produces is not None:
            record = record.with_changes(problem=cls.produces, class_names=None)
        return record

    def record_preprocessing(self) -> None:
        """Give the net the preprocessing record of the data it trains on
        (`net.pretrained_cfg`), when the data module has one."""
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer else None
        if hasattr(datamodule, "preprocessing_record"):
            cast("CarriesRecord", self.net).pretrained_cfg = self.record_for(datamodule)

    def on_fit_start(self) -> None:
        self.record_preprocessing()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {
            "model": getattr(self.net, "zoo_config", None),
            "pretrained_cfg": _plain_record(getattr(self.net, "pretrained_cfg", None)),
            "run": self.run_config,
            "command": self.command,
            "random_states": random_states(),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # a resumed fit goes on drawing the random numbers the interrupted one would have
        states = checkpoint.get("zoo", {}).get("random_states")
        if states and self._trainer is not None and self.trainer.state.fn == "fit":
            restore_random_states(states)
