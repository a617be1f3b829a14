"""Your own data: arrays (numpy or torch) in memory, or an `.npz` file, served like the bundled
datasets so any zoo architecture trains on them.

    dm = ArrayDataModule(train=(x, y), test=(x_test, y_test))   # val split made from train
    python train.py data=arrays data.path=my.npz                # x_train, y_train, [x_val, ...]

What is inferred, unless given:

- `problem`: integer labels (N,) -> `multiclass` with `max + 1` classes; 0/1 labels (N, K) ->
  `multilabel`; other floats -> `regression` (one output per column). `binary` is never
  guessed (0/1 integer labels are two classes); pass `problem="binary"` for one logit.
- `raw_max`, the raw value that maps to 1: 255 for `uint8` inputs, else 1 (inputs used as they
  are). Standardisation (`standardize=True`) then subtracts the training split's mean and
  divides by its std: per feature for (N, F) inputs, per channel for images (N, C, H, W), one
  value otherwise.
- the validation split, when `val` is absent: `val_fraction` of the training samples, seeded,
  stratified by class for classification. Without `test`, there is no test split
  (`has_test` is False and train.py skips testing).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from zoo.data.base import InMemoryDataModule, LoaderOptions, Split
from zoo.data.batches import TensorBatches
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Unpack

PROBLEMS = ("binary", "multilabel", "multiclass", "regression")
NPZ_KEYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def as_tensor(array: Any, name: str) -> torch.Tensor:
    """A numpy array, tensor or nested list of finite numbers as a tensor (no copy where
    possible); anything else is a ValueError naming `name` and what it holds."""
    labels = " (class labels as integers 0..K-1)" if name.startswith("y") else ""
    expected = f"expected finite numbers{labels}"
    kind = getattr(getattr(array, "dtype", None), "kind", None)
    if kind is not None and kind not in "biuf":  # numpy strings, objects, dates, complex
        raise ValueError(f"{name}: an array of dtype {array.dtype}; {expected}")
    try:
        tensor = torch.as_tensor(array)
    except (TypeError, RuntimeError, ValueError):
        raise ValueError(f"{name}: a {type(array).__name__} of non-numbers; {expected}") from None
    if tensor.is_complex():
        raise ValueError(f"{name}: an array of dtype {tensor.dtype}; {expected}")
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name}: {bad} values are NaN or infinite; {expected}")
    return tensor


def infer_problem(y: torch.Tensor) -> str:
    """multiclass for integer labels (N,), multilabel for 0/1 labels (N, K), else regression."""
    if y.dtype == torch.bool or not y.is_floating_point():
        return "multiclass" if y.dim() == 1 else "multilabel"
    if y.dim() == 2 and bool(((y == 0) | (y == 1)).all()):
        return "multilabel"
    return "regression"


def stratified_holdout(
    y: torch.Tensor, fraction: float, seed: int, stratify: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, held_out): `fraction` of the samples (at least one), drawn with a seeded
    generator; the same fraction of every class when `stratify` (y holds class indices) and
    the classes are large enough for it."""
    generator = torch.Generator().manual_seed(seed)
    groups = [torch.nonzero(y == c).flatten() for c in y.unique()] if stratify else []
    held = []
    for index in groups:
        index = index[torch.randperm(len(index), generator=generator)]
        held.append(index[: round(fraction * len(index))])
    if not groups or sum(len(h) for h in held) == 0:  # too few per class: a plain draw
        order = torch.randperm(len(y), generator=generator)
        held = [order[: max(1, round(fraction * len(y)))]]
    held_out = torch.cat(held).sort().values
    keep = torch.ones(len(y), dtype=torch.bool)
    keep[held_out] = False
    return torch.arange(len(y))[keep], held_out


@register("data")
class ArrayDataModule(InMemoryDataModule):
    """Training (and optional validation / test) arrays `(x, y)`, numpy or torch, one sample per
    row of `x`: (N, F) features, (N, C, H, W) images or any (N, ...) shape.

    See the module docstring for what is inferred (`problem`, `raw_max`, the validation split).
    `class_names` names the classes in the preprocessing record. `split_seed` seeds the
    validation split. Targets are served as class indices (long) for multiclass, 0/1 labels
    (long) for binary and multilabel, floats for regression.

    Loader options (`**loading`: batch sizes, `drop_last`): `zoo.data.base.LoaderOptions`.
    """

    def __init__(
        self,
        train: tuple[Any, Any],
        val: tuple[Any, Any] | None = None,
        test: tuple[Any, Any] | None = None,
        val_fraction: float = 0.1,
        problem: str | None = None,
        raw_max: float | None = None,
        standardize: bool = True,
        class_names: Sequence[str] | None = None,
        split_seed: int = 0,
        **loading: Unpack[LoaderOptions],
    ) -> None:
        super().__init__(**loading)
        given = {"train": train, "val": val, "test": test}
        arrays: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for split, pair in given.items():
            if pair is None:
                continue
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"{split}: expected a pair (x, y), got {type(pair).__name__}")
            x, y = as_tensor(pair[0], f"x_{split}"), as_tensor(pair[1], f"y_{split}")
            if x.dim() < 2 or len(x) != len(y) or len(x) == 0:
                raise ValueError(
                    f"{split}: expected x of shape (N, ...) and y with the same N > 0, got x "
                    f"{tuple(x.shape)} and y {tuple(y.shape)}"
                )
            arrays[split] = (x, y)
        x_train, y_train = arrays["train"]
        for split, (x, y) in arrays.items():
            if x.shape[1:] != x_train.shape[1:] or y.shape[1:] != y_train.shape[1:]:
                raise ValueError(
                    f"{split}: samples of shape x {tuple(x.shape[1:])}, y {tuple(y.shape[1:])} "
                    f"differ from train's x {tuple(x_train.shape[1:])}, y {tuple(y_train.shape[1:])}"
                )

        self.problem = problem or infer_problem(y_train)
        if self.problem not in PROBLEMS:
            raise ValueError(f"data.problem={problem!r}: expected one of {PROBLEMS} or null")
        if self.problem in ("binary", "multiclass") and y_train.dim() != 1:
            raise ValueError(
                f"problem={self.problem!r} needs labels of shape (N,), got y {tuple(y_train.shape)}"
            )
        if self.problem == "multiclass":
            labels = torch.cat([y for _, y in arrays.values()])
            if labels.is_floating_point() and not bool((labels == labels.round()).all()):
                raise ValueError("problem='multiclass' needs integer class labels, got fractions")
            if int(labels.min()) < 0:
                raise ValueError(f"class labels must be >= 0, got {int(labels.min())}")
            self.num_outputs = int(labels.max()) + 1
        else:
            self.num_outputs = 1 if y_train.dim() == 1 else int(y_train[0].numel())
        self.input_shape = tuple(int(s) for s in x_train.shape[1:])
        self.raw_max = float(raw_max or (255.0 if x_train.dtype == torch.uint8 else 1.0))
        if standardize:
            dims = {2: (0,), 4: (0, 2, 3)}.get(x_train.dim(), tuple(range(x_train.dim())))
            self.standardize_dims = dims
        else:
            self.standardize_dims = None
        if class_names is not None:
            if self.problem != "multiclass" or len(class_names) != self.num_outputs:
                raise ValueError(
                    f"class_names: expected {self.num_outputs} names for a multiclass problem, "
                    f"got {len(class_names)} for {self.problem}"
                )
            self.class_names = tuple(class_names)

        if "val" not in arrays:
            if not 0 < val_fraction < 1:
                raise ValueError(f"data.val_fraction must lie in (0, 1), got {val_fraction}")
            stratify = self.problem in ("binary", "multiclass")
            keep, held = stratified_holdout(y_train, val_fraction, split_seed, stratify)
            if len(keep) == 0 or len(held) == 0:
                raise ValueError(
                    f"data.val_fraction={val_fraction} of {len(y_train)} training samples leaves "
                    "an empty split: pass val=(x, y) or change the fraction"
                )
            arrays["val"] = (x_train[held], y_train[held])
            arrays["train"] = (x_train[keep], y_train[keep])
        self.arrays = arrays
        self.val_fraction, self.split_seed = val_fraction, split_seed

    @classmethod
    def from_npz(cls, path: str | Path, **kwargs: Any) -> ArrayDataModule:
        """Arrays from an `.npz` file (`numpy.savez`): `x_train`, `y_train` and optionally
        `x_val`/`y_val` and `x_test`/`y_test`; read without unpickling anything. Other keyword
        arguments as for the constructor."""
        import numpy as np

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"data.path={str(path)!r}: no such file")
        try:
            with np.load(path, allow_pickle=False) as npz:
                found = {key: npz[key] for key in npz.files if key in NPZ_KEYS}
                others = sorted(set(npz.files) - set(NPZ_KEYS))
        except Exception as error:  # any failure means "not readable as numeric arrays"
            raise ValueError(
                f"data.path={str(path)!r}: not an .npz archive of numeric arrays "
                f"({type(error).__name__}: not written by numpy.savez, truncated, or holding "
                "Python objects); expected x_train, y_train, ... saved with numpy.savez"
            ) from None
        missing = [key for key in ("x_train", "y_train") if key not in found]
        for split in ("val", "test"):
            pair = {f"x_{split}", f"y_{split}"} & set(found)
            if len(pair) == 1:
                missing += sorted({f"x_{split}", f"y_{split}"} - pair)
        if missing:
            raise KeyError(
                f"data.path={str(path)!r} has no {', '.join(missing)}: expected x_train, y_train "
                f"and optionally x_val, y_val, x_test, y_test (found {sorted(found) + others})"
            )
        pairs: dict[str, Any] = {  # the train / val / test keyword arguments
            split: (found[f"x_{split}"], found[f"y_{split}"])
            for split in ("train", "val", "test")
            if f"x_{split}" in found
        }
        return cls(**pairs, **kwargs)

    @property
    def has_test(self) -> bool:
        """Whether a test split was given."""
        return "test" in self.arrays

    def load_unit(self) -> dict[str, Split]:
        """The splits as float inputs divided by `raw_max` and targets typed for the problem."""
        dtype = torch.float32 if self.problem == "regression" else torch.long
        return {
            split: ((x.float() / self.raw_max), y.to(dtype))
            for split, (x, y) in self.arrays.items()
        }

    def test_dataloader(self) -> TensorBatches:
        """The test split's batches; a clear error when no test arrays were given."""
        if not self.has_test:
            raise ValueError(
                "ArrayDataModule has no test split: pass test=(x, y) (x_test and y_test in the "
                "npz), or run without testing (train.py test=false)"
            )
        return super().test_dataloader()


register("data", name="zoo.data.ArrayDataModule.from_npz")(ArrayDataModule.from_npz)
