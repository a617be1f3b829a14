"""A LightningDataModule for datasets that fit in memory: whole tensors, sliced into batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast

import lightning.pytorch as L
import torch

from zoo.blocks.shapes import shape_spec
from zoo.data.batches import ClassBalancedBatches, TensorBatches
from zoo.utils.preprocessing import PretrainedRecord, make_record

if TYPE_CHECKING:
    from lightning.pytorch.loops.progress import _ProcessedTracker

Split = tuple[torch.Tensor, ...]  # (*inputs, target)
Shape = tuple[int, ...]  # one sample of one input
SPLITS = ("train", "val", "test")


def copies(splits: dict[str, Split]) -> dict[str, Split]:
    """A copy of every tensor of `splits`: what a data module hands out of data it generated
    once and keeps (its own, whatever a caller does to it in place)."""
    return {name: tuple(t.clone() for t in split) for name, split in splits.items()}


class _OverfitFlag(Protocol):
    overfit_batches: int | float


def overfitting(trainer: L.Trainer | None) -> bool:
    """Whether `trainer` runs with `overfit_batches` (Lightning sets that attribute in
    `Trainer.__init__` without declaring it on the class)."""
    return bool(trainer and cast(_OverfitFlag, trainer).overfit_batches)


def epoch_processed(trainer: L.Trainer) -> int:
    """The fit loop's current epoch as its progress counts it `processed` (the tracker Lightning
    builds there is a `_ProcessedTracker`, declared as its base class)."""
    return cast("_ProcessedTracker", trainer.fit_loop.epoch_progress.current).processed


class LoaderOptions(TypedDict, total=False):
    """How an in-memory data module batches its splits: the keyword arguments every one takes
    after its own (`**loading`), passed on to `InMemoryDataModule.__init__`, whose defaults
    hold unless a data module's docstring says otherwise.

    `batch_size`: training samples per step (default 64); `None` trains on the whole split at
    once (full-batch gradient descent). `eval_batch_size`: samples per validation and test
    batch (default 1024). `drop_last`: training leaves out a last batch smaller than
    `batch_size` (default `False`): too noisy a step, or a single sample that batch norm
    cannot normalise.
    """

    batch_size: int | None
    eval_batch_size: int
    drop_last: bool


def split_sizes(
    sizes: dict[str, int] | None, default: dict[str, int], key: str = "data.sizes"
) -> dict[str, int]:
    """Sample counts per split for generated data, checked: positive train/val/test counts."""
    sizes = dict(sizes or default)
    if set(sizes) != set(SPLITS) or min(sizes.values()) <= 0:
        raise ValueError(f"{key} must give positive train/val/test counts, got {sizes}")
    return sizes


class InMemoryDataModule(L.LightningDataModule):
    """Subclasses implement `load_unit()` -> {"train": (x, y), "val": ..., "test": ...} with
    inputs scaled to [0, 1]; `load()` then standardises them with training-split statistics.

    Class attributes describe the data so configs can be checked against the model before
    training: `input_shape` (one sample), `problem` (binary / multilabel / multiclass) and
    `num_outputs` (logits the head must produce). `raw_max` is the raw value that maps to 1
    (16 for digits, 255 for 8-bit images); `standardize_dims` the dimensions whose mean and
    std are shared (`(0, 1, 2, 3)`: one value; `(0, 2, 3)`: one per channel; `None`: keep [0, 1]).
    `fixed_training_inputs`: training batches hold the stored rows as they are (no augmentation
    or preprocessing on the way), so per-sample results such as a teacher's outputs can be
    computed once and ride along (`attach_to_training`). `class_names`: one name per output
    class, when the outputs are classes.

    `__init__` takes the loader options, `LoaderOptions`, by keyword; a subclass takes its own
    arguments and then `**loading: Unpack[LoaderOptions]`, which it passes on.

    `spec()` tells a model config what the data looks like before anything is loaded;
    `preprocessing_record()` is what a trained model keeps of the data (`zoo.utils.preprocessing`).
    """

    input_shape: Shape | tuple[Shape, ...] = ()  # one shape per input when there are several
    problem: str = "multiclass"
    num_outputs: int = 1
    class_names: tuple[str, ...] | None = None
    threshold: float | None = None  # inputs binarised at this value of [0, 1], if any
    raw_max: float = 1.0
    standardize_dims: tuple[int, ...] | None = (0, 1, 2, 3)

    def __init__(
        self, *, batch_size: int | None = 64, eval_batch_size: int = 1024, drop_last: bool = False
    ) -> None:
        super().__init__()
        if batch_size is not None and batch_size <= 0:
            raise ValueError(
                f"data.batch_size must be positive or null (full batch), got {batch_size}"
            )
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        # training leaves out a last batch smaller than batch_size (too noisy a step, or one
        # sample that batch norm cannot normalise)
        self.drop_last = drop_last
        self.splits: dict[str, Split] = {}
        self.stats: tuple[torch.Tensor, torch.Tensor] | None = None
        self.attached: torch.Tensor | None = None
        self.resumed_at: dict[str, int] = {}

    @property
    def fixed_training_inputs(self) -> bool:
        return True

    def attach_to_training(self, values: torch.Tensor | None) -> None:
        """Every training batch ends with the rows of `values` (one per training sample) that
        match its samples; `None` detaches them."""
        self.setup()
        if values is not None and len(values) != len(self.splits["train"][0]):
            raise ValueError(
                f"attach_to_training: {len(values)} rows for "
                f"{len(self.splits['train'][0])} training samples"
            )
        self.attached = values

    def training_tensors(self) -> Split:
        """The training split's tensors, and the attached values if any."""
        self.setup()
        train = self.splits["train"]
        return train if self.attached is None else (*train, self.attached)

    def load_unit(self) -> dict[str, Split]:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """What a model config reads from the data (`${data_spec.*}`), known without loading:
        `problem`, `num_outputs` and the shapes of `zoo.blocks.shapes.shape_spec` (input shape,
        channels, size, image size)."""
        return {
            **shape_spec(self.input_shape),
            "problem": self.problem,
            "num_outputs": self.num_outputs,
        }

    def preprocessing_record(self) -> PretrainedRecord:
        """How raw samples become this data's model inputs (`zoo.utils.preprocessing.make_record`):
        the raw maximum, the training split's per-channel mean and std, problem, class names."""
        mean: Sequence[float] = (0.0,)
        std: Sequence[float] = (1.0,)
        if self.standardize_dims is not None:
            if self.stats is None:
                self.load()
            assert self.stats is not None  # `load()` keeps the training split's statistics
            mean, std = (t.flatten().tolist() for t in self.stats)
        return make_record(
            self.input_shape,
            self.raw_max,
            mean,
            std,
            self.problem,
            self.class_names,
            self.threshold,
        )

    def load(self) -> dict[str, Split]:
        """The splits, standardised with the training split's mean and std (kept in `stats`)."""
        splits = self.load_unit()
        if self.standardize_dims is None:
            return splits
        train = splits["train"][0]
        std = train.std(dim=self.standardize_dims, keepdim=True)
        # a constant feature (a pixel never inked) keeps its scale instead of dividing by 0
        std = torch.where(std > 0, std, torch.ones_like(std))
        self.stats = (train.mean(dim=self.standardize_dims, keepdim=True), std)
        return {k: (self.transform(x), *rest) for k, (x, *rest) in splits.items()}

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] inputs -> model inputs, with the statistics of the training split."""
        if self.standardize_dims is None:
            return x
        if self.stats is None:
            self.load()
        assert self.stats is not None  # `load()` keeps the training split's statistics
        mean, std = self.stats
        return (x - mean.to(x.device)) / std.to(x.device)

    def setup(self, stage: str | None = None) -> None:
        """Load the splits once and keep them on the trainer's device (a GPU's: batches are
        then sliced there, with no host-to-device copy per step)."""
        if not self.splits:
            self.splits = self.load()
        device = self.trainer.strategy.root_device if self.trainer else None
        if device is not None and next(iter(self.splits.values()))[0].device != device:
            self.splits = {k: tuple(t.to(device) for t in s) for k, s in self.splits.items()}

    def sharding(self, training: bool = False) -> dict[str, Any]:
        """Seed, DDP rank and, for training, the position in training of a batch iterator. The
        seed is the run's (`seed_everything`), so the data order is a pure function of
        (seed, epoch, rank)."""
        trainer = self.trainer
        sharding = {
            "seed": torch.initial_seed(),
            "rank": trainer.global_rank if trainer else 0,
            "world_size": trainer.world_size if trainer else 1,
        }
        return sharding | ({"position": self.training_position} if training and trainer else {})

    def training_position(self) -> tuple[int, int]:
        """(epoch, its batches already trained on) as the trainer stands; a resumed run starts
        where its checkpoint was written (`load_state_dict`)."""
        assert self.trainer is not None  # `sharding` hands this out only with a trainer
        epoch = epoch_processed(self.trainer)
        done = (
            self.resumed_at.get("batches_done", 0) if self.resumed_at.get("epoch") == epoch else 0
        )
        self.resumed_at = {}
        return epoch, done

    def state_dict(self) -> dict[str, int]:
        """Where training stood in the data when a checkpoint was written (Lightning saves it)."""
        if self.trainer is None:
            return {}
        fit_loop = self.trainer.fit_loop
        done = fit_loop.epoch_loop.batch_progress.current.completed
        # an epoch whose batches were all trained resumes with the next one, from its start
        done = done if done < self.trainer.num_training_batches else 0
        return {"epoch": epoch_processed(self.trainer), "batches_done": done}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self.resumed_at = dict(state_dict)

    def _batches(self, split: str, batch_size: int | None, shuffle: bool) -> TensorBatches:
        self.setup()
        training = split == "train"
        tensors = self.training_tensors() if training else self.splits[split]
        return TensorBatches(
            *tensors,
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=training and self.drop_last,
            **self.sharding(training),
        )

    def train_dataloader(self) -> TensorBatches:
        # `overfit_batches` must see the same batches every epoch: no shuffling then
        overfit = overfitting(self.trainer)
        return self._batches("train", self.batch_size, shuffle=not overfit)

    def val_dataloader(self) -> TensorBatches:
        return self._batches("val", self.eval_batch_size, shuffle=False)

    def test_dataloader(self) -> TensorBatches:
        return self._batches("test", self.eval_batch_size, shuffle=False)

    def predict_dataloader(self) -> TensorBatches:
        return self.test_dataloader()


class ClassBalancedDataModule(InMemoryDataModule):
    """`(image, class)` for metric learning (`problem = "metric"`): training batches hold
    `classes_per_batch` classes with `batch_size / classes_per_batch` samples each (the "PK"
    batches of `zoo.data.batches.ClassBalancedBatches`), so every batch has positive pairs to
    learn from. A subclass calls `balance_batches` in its `__init__`, after `super().__init__`."""

    problem = "metric"
    classes_per_batch = 32

    def balance_batches(self, classes_per_batch: int, samples_per_class: int) -> None:
        """Check that `batch_size` splits into `classes_per_batch` groups of 2 to
        `samples_per_class` (the samples each class has) and keep `classes_per_batch`."""
        batch_size = self.batch_size
        if batch_size is None or batch_size % classes_per_batch:
            raise ValueError(
                f"data.batch_size={batch_size} must be a multiple of data.classes_per_batch="
                f"{classes_per_batch}"
            )
        per_class = batch_size // classes_per_batch
        if not 2 <= per_class <= samples_per_class:
            raise ValueError(
                f"data.batch_size / data.classes_per_batch = {per_class} samples per class: "
                f"expected 2..{samples_per_class} (data.samples_per_class)"
            )
        self.classes_per_batch = classes_per_batch

    @property
    def fixed_training_inputs(self) -> bool:
        return False  # class-balanced batches end with the labels: nothing rides along

    def train_dataloader(self) -> ClassBalancedBatches:
        self.setup()
        assert self.batch_size is not None  # balance_batches checked it
        return ClassBalancedBatches(
            *self.splits["train"],
            classes_per_batch=self.classes_per_batch,
            samples_per_class=self.batch_size // self.classes_per_batch,
            **self.sharding(training=True),
        )
