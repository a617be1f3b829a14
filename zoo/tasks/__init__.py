"""LightningModules, one per learning objective (imports lightning and torchmetrics)."""

from zoo.tasks.base import ZooTask
from zoo.tasks.classification import ClassificationTask, classification_metrics

__all__ = ["ClassificationTask", "ZooTask", "classification_metrics"]
