"""Supervised learning for any head: binary, multi-label, multi-class or regression."""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    AUROC,
    Accuracy,
    F1Score,
    MultilabelExactMatch,
)
from torchmetrics.regression import MeanAbsoluteError, MeanSquaredError

from zoo.blocks.heads import Head
from zoo.tasks.base import ZooTask
from zoo.utils.builder import register


def head_metrics(problem: str, num_outputs: int) -> MetricCollection:
    """The metrics that fit a head: accuracy and F1 (and AUROC where scores are binary) for
    classification, MSE and MAE for regression."""
    if problem == "regression":
        return MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError()})
    if problem == "binary":
        return MetricCollection(
            {"acc": Accuracy("binary"), "f1": F1Score("binary"), "auroc": AUROC("binary")}
        )
    if problem == "multilabel":
        return MetricCollection(
            {
                "subset_acc": MultilabelExactMatch(num_labels=num_outputs),
                "f1": F1Score("multilabel", num_labels=num_outputs, average="micro"),
                "auroc": AUROC("multilabel", num_labels=num_outputs),
            }
        )
    if problem == "multiclass":
        return MetricCollection(
            {
                "acc": Accuracy("multiclass", num_classes=num_outputs),
                "f1": F1Score("multiclass", num_classes=num_outputs, average="macro"),
            }
        )
    raise ValueError(
        f"unknown problem {problem!r}: expected binary, multilabel, multiclass or regression"
    )


@register("task")
class SupervisedTask(ZooTask):
    """Trains `net` (whose `head` is a `zoo.blocks.Head`) with the head's own loss.

    Batches are `(*inputs, target)`: the net receives every input, so multi-input models
    (an image and a question, say) train the same way.

    Metrics are logged once per epoch as `val/acc`, `test/f1`, ...; `train_metrics=True`
    adds `train/acc`, ... at the cost of a metric update per step.
    """

    def __init__(self, net: nn.Module, *, train_metrics: bool = False, **kwargs: Any) -> None:
        super().__init__(net, **kwargs)
        stages = ("train", "val", "test") if train_metrics else ("val", "test")
        self.add_metrics(head_metrics(self.head.problem, self.head.num_outputs), stages)

    @classmethod
    def check_net(cls, net: nn.Module) -> None:
        head = getattr(net, "head", None)
        if not isinstance(head, Head):
            raise TypeError(
                f"{cls.__name__} needs a net whose .head is a zoo.blocks.Head, got "
                f"{type(head).__name__}"
            )

    @property
    def head(self) -> Head:
        return cast(Head, self.net.head)  # check_net: a Head

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        *inputs, y = batch
        logits = self.net(*inputs)
        loss = self.head.loss(logits, y)
        self.update_metrics(stage, self.head.metric_input(logits.detach()), y)
        self.log_loss(stage, loss, len(y))
        return loss

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        *inputs, _ = batch
        return self.head.metric_input(self.net(*inputs))
