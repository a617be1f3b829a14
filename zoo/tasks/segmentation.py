"""Dense prediction: one class per pixel (semantic segmentation)."""

from __future__ import annotations

from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import Metric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex

from zoo.tasks.base import ZooTask
from zoo.utils.builder import register


@register("task")
class SegmentationTask(ZooTask):
    """Per-pixel cross-entropy for a net that maps (N, C, H, W) images to (N, K, H, W) logits
    (`net.num_classes` = K), on `(image, labels (N, H, W))` batches. Logged per epoch:
    `stage/miou` (intersection over union, averaged over the classes) and `stage/pixel_acc`."""

    def __init__(self, net: nn.Module, **kwargs: Any) -> None:
        super().__init__(net, **kwargs)
        classes = cast(int, net.num_classes)  # check_net: an int
        metrics: dict[str, Metric | MetricCollection] = {
            "miou": MulticlassJaccardIndex(classes),
            "pixel_acc": MulticlassAccuracy(classes, average="micro"),
        }
        self.add_metrics(MetricCollection(metrics))

    @classmethod
    def check_net(cls, net: nn.Module) -> None:
        classes = getattr(net, "num_classes", None)
        if not isinstance(classes, int) or classes < 2:
            raise TypeError(
                "SegmentationTask needs a net with num_classes >= 2 logit maps (e.g. UNet), got "
                f"{type(net).__name__} with num_classes={classes!r}"
            )

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x, labels = batch
        logits = self.net(x)
        loss = F.cross_entropy(logits, labels)
        self.update_metrics(stage, logits.detach().argmax(1), labels)
        self.log_loss(stage, loss, len(x))
        return loss
