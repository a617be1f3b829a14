"""MNIST, Fashion-MNIST and CIFAR-10 from torchvision, held in memory as tensors.

They download when the network allows; offline they fail with a message that says which
files to put where.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

# name -> (torchvision class, folder it expects under root, files it needs, input shape)
DATASETS = {
    "mnist": (
        "MNIST",
        "MNIST/raw",
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte (or their .gz)",
        (1, 28, 28),
    ),
    "fashion_mnist": (
        "FashionMNIST",
        "FashionMNIST/raw",
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte (or their .gz)",
        (1, 28, 28),
    ),
    "cifar10": (
        "CIFAR10",
        "",
        "cifar-10-python.tar.gz (or its extracted cifar-10-batches-py/)",
        (3, 32, 32),
    ),
}


CLASS_NAMES = {
    "mnist": tuple("0123456789"),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    "cifar10": (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
}


class DatasetUnavailableError(RuntimeError):
    """The dataset is neither on disk nor downloadable from here."""


@register("data")
class TorchvisionDataModule(InMemoryDataModule):
    """A torchvision classification dataset: train split minus `val_size` held out, test split.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`;
    here `batch_size` 128 and `eval_batch_size` 2048 by default.
    """

    problem = "multiclass"
    num_outputs = 10
    raw_max = 255.0
    standardize_dims = (0, 2, 3)  # one mean and std per colour channel
    name: str  # a key of DATASETS, set in __init__ (LightningDataModule allows None)

    def __init__(
        self,
        name: str = "mnist",
        data_dir: str = "data",
        download: bool = True,
        val_size: int = 5000,
        split_seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        loading.setdefault("batch_size", 128)
        loading.setdefault("eval_batch_size", 2048)
        super().__init__(**loading)
        if name not in DATASETS:
            raise ValueError(f"data.name={name!r}: expected one of {sorted(DATASETS)}")
        self.name, self.data_dir, self.download = name, Path(data_dir), download
        self.prepare_data_per_node = False  # see prepare_data
        self.val_size, self.split_seed = val_size, split_seed
        self.input_shape = DATASETS[name][3]
        self.class_names = CLASS_NAMES[name]

    def _dataset(self, train: bool):
        import torchvision.datasets

        cls_name, folder, files, _ = DATASETS[self.name]
        cls = getattr(torchvision.datasets, cls_name)
        where = self.data_dir / folder
        try:
            return cls(str(self.data_dir), train=train, download=self.download)
        except (OSError, RuntimeError) as error:
            how = "could not be downloaded" if self.download else "was not found (download=false)"
            reason = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            raise DatasetUnavailableError(
                f"{cls_name} {how} into {where.resolve()} ({reason.rstrip('.:')}); without a "
                f"network, copy {files} into {where.resolve()} and run again"
            ) from error

    def prepare_data(self) -> None:
        """Under DDP, download before any rank loads: Lightning calls this in the first process
        while the others wait, so they do not download into one folder at once. Once for all
        nodes (`prepare_data_per_node = False`): `data_dir` is taken to be shared by them, as
        the run folders of a SLURM job are."""
        if self.download and self.trainer is not None and self.trainer.world_size > 1:
            for train in (True, False):
                self._dataset(train)

    def load_unit(self) -> dict[str, Split]:
        splits: dict[str, Split] = {}
        for split, is_train in (("train", True), ("test", False)):
            ds = self._dataset(is_train)
            x = torch.as_tensor(ds.data)
            x = x.permute(0, 3, 1, 2) if x.dim() == 4 else x.unsqueeze(1)  # (N, C, H, W)
            splits[split] = (x.float() / 255.0, torch.as_tensor(ds.targets, dtype=torch.long))
        x, y = splits.pop("train")
        if not 0 < self.val_size < len(x):
            raise ValueError(f"data.val_size must lie in (0, {len(x)}), got {self.val_size}")
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.split_seed))
        val, train = order[: self.val_size], order[self.val_size :]
        return splits | {"train": (x[train], y[train]), "val": (x[val], y[val])}
