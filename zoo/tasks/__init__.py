"""LightningModules, one per learning objective (imports lightning and torchmetrics)."""

from zoo.tasks.adversarial import AdversarialTrainingTask
from zoo.tasks.base import ZooTask
from zoo.tasks.contrastive import ContrastiveTask
from zoo.tasks.distillation import DistillationTask
from zoo.tasks.gan import GANTask
from zoo.tasks.likelihood import LikelihoodTask
from zoo.tasks.metric_learning import MetricLearningTask
from zoo.tasks.multitask import MultiTaskTask
from zoo.tasks.reconstruction import ReconstructionTask
from zoo.tasks.segmentation import SegmentationTask
from zoo.tasks.seq2seq import Seq2SeqTask
from zoo.tasks.supervised import SupervisedTask, head_metrics
from zoo.tasks.variational import VAETask

__all__ = [
    "AdversarialTrainingTask",
    "ContrastiveTask",
    "DistillationTask",
    "GANTask",
    "LikelihoodTask",
    "MetricLearningTask",
    "MultiTaskTask",
    "ReconstructionTask",
    "SegmentationTask",
    "Seq2SeqTask",
    "SupervisedTask",
    "VAETask",
    "ZooTask",
    "head_metrics",
]
