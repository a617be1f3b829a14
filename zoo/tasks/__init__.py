"""LightningModules, one per learning objective (imports lightning and torchmetrics)."""

from zoo.tasks.base import ZooTask
from zoo.tasks.supervised import SupervisedTask, head_metrics

__all__ = ["SupervisedTask", "ZooTask", "head_metrics"]
