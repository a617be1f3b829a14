"""MNIST-1D (Greydanus & Kobak 2020): ten 1-D templates of the digits, padded, translated,
sheared, scaled and blurred with correlated and white noise into signals of 40 steps. Small
enough for a laptop CPU, hard enough to separate a linear model (32% in the paper), an MLP
(68%), a GRU (91%) and a CNN (94%): the spatial prior shows.

The signals come from the `mnist1d` package (`pip install "zoo[mnist1d]"`), generated exactly
as the paper's: `mnist1d.data.get_dataset_args()` (5,000 signals, seed 42, the first 80% to
train) and `mnist1d.data.make_dataset(args)`; never the package's download path. Generating
takes ~2 s (and importing the package ~1 s): once per process for each setting.
"""

from __future__ import annotations

import functools
import random
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from zoo.data.arrays import stratified_holdout
from zoo.data.base import InMemoryDataModule, LoaderOptions, Split, copies
from zoo.data.vision import DatasetUnavailableError
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

LENGTH = 40  # the package's final_seq_length: every signal has 40 steps
INSTALL = 'pip install "zoo[mnist1d]"'


def import_mnist1d() -> Any:
    """`mnist1d.data`, or a one-line DatasetUnavailableError saying how to install it."""
    try:
        import mnist1d.data
    except ImportError as error:  # the package, or one of its own imports (scipy, matplotlib)
        ours = (error.name or "").partition(".")[0] == "mnist1d"
        missing = "" if ours else f" (it needs {error.name}: {error})"
        raise DatasetUnavailableError(
            f"data=mnist1d needs the mnist1d package{missing}: {INSTALL}"
        ) from None
    return mnist1d.data


@functools.lru_cache(maxsize=2)  # ~2 s to generate: once per process for each setting
def generate_mnist1d(
    num_samples: int, seed: int, shuffle_seq: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test) as `make_dataset` draws them with the package's
    default arguments (the paper's) and these three changed: signals (N, 1, 40) float32,
    labels (N,) long. The package seeds Python's and numpy's global generators; their states
    are put back afterwards, so generating the data draws nothing from a run's streams."""
    data = import_mnist1d()
    args = data.get_dataset_args()
    args.num_samples, args.seed, args.shuffle_seq = num_samples, seed, shuffle_seq
    states = random.getstate(), np.random.get_state()
    try:
        dataset = data.make_dataset(args)
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])

    def signals(x: Any) -> torch.Tensor:
        return torch.tensor(x, dtype=torch.float32).unsqueeze(1)

    def labels(y: Any) -> torch.Tensor:
        return torch.tensor(y, dtype=torch.long)

    return (
        signals(dataset["x"]),
        labels(dataset["y"]),
        signals(dataset["x_test"]),
        labels(dataset["y_test"]),
    )


@register("data")
class MNIST1DDataModule(InMemoryDataModule):
    """MNIST-1D as the paper has it: 4,000 training and 1,000 test signals (1, 40) in 10
    classes, from the `mnist1d` package with its default arguments (`seed=42`).

    The validation split is `val_fraction` of the 4,000 training signals, drawn by
    `split_seed`, every class in the same proportion; the test split is the paper's 1,000.
    The paper trains on all 4,000 and reports the test accuracy of its last step:
    `val_fraction=0` does the same (no validation split; see `experiment=mnist1d_cnn`).

    The signals are served as the package makes them: it centres the whole set and scales it
    to a standard deviation of 1, so nothing is standardised again (`standardize_dims=None`).
    `num_samples` and `seed` change the draw (the first 80% to train); `shuffle_seq=True`
    permutes the 40 steps of every signal the same way (the paper's test of a spatial prior:
    the CNN falls to about the MLP's accuracy).

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`;
    here `batch_size` is 100 by default, the paper's.
    """

    input_shape = (1, LENGTH)
    problem = "multiclass"
    num_outputs = 10
    class_names = tuple("0123456789")
    raw_max = 1.0
    standardize_dims = None  # the package's signals are already centred and scaled

    def __init__(
        self,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        seed: int = 42,
        num_samples: int = 5000,
        shuffle_seq: bool = False,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        loading.setdefault("batch_size", 100)
        super().__init__(**loading)
        if not 0 <= val_fraction < 1:
            raise ValueError(f"data.val_fraction must lie in [0, 1), got {val_fraction}")
        if num_samples < 50:  # 10 classes, 80% of each to train, one to validate
            raise ValueError(f"data.num_samples must be at least 50, got {num_samples}")
        self.val_fraction, self.split_seed = val_fraction, split_seed
        self.seed, self.num_samples, self.shuffle_seq = seed, num_samples, shuffle_seq

    def load_unit(self) -> dict[str, Split]:
        """The training signals less the validation split, the validation split (empty when
        `val_fraction=0`) and the paper's test signals."""
        x, y, x_test, y_test = generate_mnist1d(self.num_samples, self.seed, self.shuffle_seq)
        if self.val_fraction == 0:
            train, val = torch.arange(len(y)), torch.arange(0)
        else:
            train, val = stratified_holdout(y, self.val_fraction, self.split_seed, stratify=True)
        return copies(
            {"train": (x[train], y[train]), "val": (x[val], y[val]), "test": (x_test, y_test)}
        )
