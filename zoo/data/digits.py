"""scikit-learn's bundled 8x8 digits (1797 images): no download, a deterministic split."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

TARGETS = {"digit": ("multiclass", 10), "parity": ("binary", 1)}
CLASS_NAMES = {"digit": tuple("0123456789"), "parity": ("even", "odd")}


def load_digit_images() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1797 images as (N, 1, 8, 8) floats in [0, 1] and their labels 0-9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return x, torch.tensor(digits.target, dtype=torch.long)


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """Raise unless both fractions lie in (0, 1) and leave a training split."""
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < f < 1:
            raise ValueError(f"data.{name} must lie in (0, 1), got {f}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"data.val_fraction + data.test_fraction must be < 1, got {val_fraction + test_fraction}"
        )


def stratified_split(
    y: torch.Tensor, val_fraction: float, test_fraction: float, seed: int
) -> dict[str, torch.Tensor]:
    """Indices of a train/val/test split with every class in the same proportions."""
    from sklearn.model_selection import train_test_split

    check_fractions(val_fraction, test_fraction)
    index = torch.arange(len(y))
    rest, test = train_test_split(index, test_size=test_fraction, stratify=y, random_state=seed)
    train, val = train_test_split(
        rest, test_size=val_fraction / (1 - test_fraction), stratify=y[rest], random_state=seed
    )
    return {"train": train, "val": val, "test": test}


def training_subset(
    y: torch.Tensor, train: torch.Tensor, size: int | float, seed: int
) -> torch.Tensor:
    """`size` of the training indices `train` (a count, or a fraction in (0, 1)), every class
    in the same proportions: a small labelled set drawn from the same split."""
    from sklearn.model_selection import train_test_split

    classes = len(y[train].unique())
    count = size if isinstance(size, int) else round(size * len(train))
    if isinstance(size, bool) or not (
        (isinstance(size, int) or 0 < size < 1) and classes <= count < len(train)
    ):
        raise ValueError(
            f"data.train_size={size}: expected a count from {classes} (one per class) to "
            f"{len(train) - 1}, or a fraction of the {len(train)} training images"
        )
    kept, _ = train_test_split(train, train_size=count, stratify=y[train], random_state=seed)
    return kept


def repeated_digit_splits(copies: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The default 40/10/50 split of the bundled digits, each image and label `copies` times,
    for generated variants that draw something new for every copy."""
    x, digit = load_digit_images()
    return {
        split: (x[index].repeat(copies, 1, 1, 1), digit[index].repeat(copies))
        for split, index in stratified_split(digit, 0.1, 0.5, 0).items()
    }


@register("data")
class DigitsDataModule(InMemoryDataModule):
    """Digits as a multi-class (`target="digit"`) or binary even/odd (`target="parity"`) task.

    The default split (train 40% / val 10% / test 50%, 899 test images) is fixed by
    `split_seed`, independent of the training seed. `scale="standard"` standardises pixels;
    `"unit"` keeps them in [0, 1] (for reconstruction); `"binary"` thresholds them at 0.5 (for
    Bernoulli likelihoods). `jitter=k` shifts every training image by up to k pixels each way,
    afresh each batch (the augmentation behind the strong digit teachers of Hinton et al.).
    `held_out_classes` leaves those digits out of the train and val splits, the test split
    keeps them: e.g. a distillation transfer set without any 3 (Hinton et al. 2015, 3).
    `train_size` keeps that many training images (or that fraction), stratified: the small
    labelled sets of overfitting and label-efficiency experiments; val and test stay whole.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`.
    """

    input_shape = (1, 8, 8)
    raw_max = 16.0

    def __init__(
        self,
        target: str = "digit",
        val_fraction: float = 0.1,
        test_fraction: float = 0.5,
        scale: str = "standard",
        split_seed: int = 0,
        jitter: int = 0,
        held_out_classes: list[int] | None = None,
        train_size: int | float | None = None,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        super().__init__(**loading)
        if not 0 <= jitter <= 2:
            raise ValueError(f"data.jitter must be 0, 1 or 2 pixels, got {jitter}")
        self.jitter, self.train_size = jitter, train_size
        self.held_out_classes = sorted(held_out_classes or [])
        if not set(self.held_out_classes) < set(range(10)):
            raise ValueError(
                f"data.held_out_classes must be some of the digits 0-9, not all of them, "
                f"got {held_out_classes}"
            )
        if target not in TARGETS:
            raise ValueError(f"data.target={target!r}: expected one of {sorted(TARGETS)}")
        if scale not in ("standard", "unit", "binary"):
            raise ValueError(f"data.scale={scale!r}: expected 'standard', 'unit' or 'binary'")
        self.problem, self.num_outputs = TARGETS[target]
        self.class_names = CLASS_NAMES[target]
        self.target = target
        self.standardize_dims = (0, 1, 2, 3) if scale == "standard" else None
        self.binary = scale == "binary"
        self.threshold = 0.5 if self.binary else None
        self.val_fraction, self.test_fraction, self.split_seed = (
            val_fraction,
            test_fraction,
            split_seed,
        )
        check_fractions(val_fraction, test_fraction)

    def load_unit(self) -> dict[str, Split]:
        x, digit = load_digit_images()
        y = digit % 2 if self.target == "parity" else digit
        if self.binary:  # pixels on where at least half-inked, for Bernoulli likelihoods
            assert self.threshold is not None  # binary data has its threshold (__init__)
            x = (x >= self.threshold).float()
        index = stratified_split(digit, self.val_fraction, self.test_fraction, self.split_seed)
        held_out = torch.isin(digit, torch.tensor(self.held_out_classes, dtype=digit.dtype))
        for split in ("train", "val"):
            index[split] = index[split][~held_out[index[split]]]
        if self.train_size is not None:
            index["train"] = training_subset(
                digit, index["train"], self.train_size, self.split_seed
            )
        return {k: (x[i], y[i]) for k, i in index.items()}

    @property
    def fixed_training_inputs(self) -> bool:
        return not self.jitter

    def on_after_batch_transfer(
        self, batch: tuple[torch.Tensor, ...], dataloader_idx: int
    ) -> tuple[torch.Tensor, ...]:
        if not self.jitter or not (self.trainer and self.trainer.training):
            return batch
        x, *rest = batch
        return (shift_randomly(x, self.jitter), *rest)


def shift_randomly(x: torch.Tensor, pixels: int) -> torch.Tensor:
    """Shift each image (N, C, H, W) by up to `pixels` rows and columns, filling with the
    image's corner value (the background)."""
    n, _, h, w = x.shape
    background = x[:, :, :1, :1]
    padded = torch.nn.functional.pad(x - background, (pixels,) * 4) + background
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, n), device=x.device).tolist()
    return torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
