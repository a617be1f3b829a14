"""LightningModules, one per learning objective (imports lightning and torchmetrics)."""

from zoo.tasks.classification import ClassificationTask, classification_metrics

__all__ = ["ClassificationTask", "classification_metrics"]
