"""LightningDataModules: bundled digits, generated tasks, torchvision datasets (imports lightning)."""

from zoo.data.base import InMemoryDataModule
from zoo.data.batches import TensorBatches
from zoo.data.digits import DigitsDataModule
from zoo.data.mosaics import DigitMosaicsDataModule
from zoo.data.vision import DatasetUnavailableError, TorchvisionDataModule

__all__ = [
    "DatasetUnavailableError",
    "DigitMosaicsDataModule",
    "DigitsDataModule",
    "InMemoryDataModule",
    "TensorBatches",
    "TorchvisionDataModule",
]
