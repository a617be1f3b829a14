"""LightningDataModules: bundled digits, generated tasks, torchvision datasets, your own arrays
(imports lightning); shards streamed through litdata for data larger than memory (litdata is
imported only when shards are written or read)."""

from zoo.data.adding import AddingProblemDataModule
from zoo.data.arrays import ArrayDataModule
from zoo.data.base import InMemoryDataModule, LoaderOptions
from zoo.data.batches import TensorBatches
from zoo.data.digit_tones import DigitTonesDataModule
from zoo.data.digits import DigitsDataModule
from zoo.data.glyphs import GlyphsDataModule
from zoo.data.image_folder import shards_from_image_folder
from zoo.data.mnist1d import MNIST1DDataModule
from zoo.data.mosaics import DigitMosaicsDataModule
from zoo.data.omniglot import OmniglotDataModule
from zoo.data.retrieval import KeyValueRetrievalDataModule
from zoo.data.rotated_digits import RotatedDigitsDataModule
from zoo.data.sequences import SequenceTaskDataModule
from zoo.data.shapes import ShapesDataModule
from zoo.data.shards import shards_from_datamodule
from zoo.data.sort_of_clevr import SortOfClevrDataModule
from zoo.data.streaming import StreamingDataModule
from zoo.data.vision import DatasetUnavailableError, TorchvisionDataModule

__all__ = [
    "AddingProblemDataModule",
    "ArrayDataModule",
    "DatasetUnavailableError",
    "DigitMosaicsDataModule",
    "DigitTonesDataModule",
    "DigitsDataModule",
    "GlyphsDataModule",
    "InMemoryDataModule",
    "KeyValueRetrievalDataModule",
    "LoaderOptions",
    "MNIST1DDataModule",
    "OmniglotDataModule",
    "RotatedDigitsDataModule",
    "SequenceTaskDataModule",
    "ShapesDataModule",
    "SortOfClevrDataModule",
    "StreamingDataModule",
    "TensorBatches",
    "TorchvisionDataModule",
    "shards_from_datamodule",
    "shards_from_image_folder",
]
