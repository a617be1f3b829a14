"""The preprocessing record a model carries (`model.pretrained_cfg`, after timm's idea): what one
sample looks like and how raw samples become model inputs, so inference needs no data module.

A record is a `PretrainedRecord`: a typed, immutable dataclass that reads like the JSON-ready
dict config.json stores (`record["mean"]`, `dict(record)`; `record.to_dict()` writes it):

| field         | meaning                                                                   |
| input_shape   | one sample, e.g. [1, 8, 8] (a list of shapes for multi-input models)      |
| raw_max       | the raw value that maps to 1 (16 for the bundled digits, 255 for 8-bit)  |
| threshold     | binarise after scaling to [0, 1] (x >= threshold), or null              |
| mean, std     | per-channel statistics applied after scaling to [0, 1] (one value: all)  |
| problem       | binary / multilabel / multiclass / regression / ...                      |
| class_names   | one name per output class, or null                                       |
| card          | for loaded weights: their card (dataset, metrics, command, sha256, ...)  |

Model input = (raw / raw_max - mean) / std, channel-wise (binarised at `threshold` first when
there is one); for multi-input models it applies to the first input. The functions here read
any mapping with these keys: a `PretrainedRecord`, or the plain dict of one (a checkpoint's).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

Shape = list[int] | list[list[int]]
"""One sample's shape as plain lists: [1, 8, 8], or one shape per input ([[1, 8, 8], [1, 32]])."""

Record = Mapping[str, Any]
"""What the preprocessing functions read: a `PretrainedRecord`, or the plain dict of one."""


def _plain(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A record's fields (`values`) as plain JSON-ready values: lists of ints, floats, names;
    one of the wrong kind is a ValueError naming it, as read from `where`."""
    plain = dict(values)
    for key, value in values.items():
        if value is None and key in ("input_shape", "threshold", "problem", "class_names", "card"):
            continue
        try:
            if key in ("input_shape", "mean", "std", "class_names") and (
                isinstance(value, str | bytes) or not isinstance(value, Iterable)
            ):
                raise TypeError(value)
            if key == "input_shape":
                plain[key] = as_lists(value)
            elif key in ("raw_max", "threshold"):
                if isinstance(value, str | bytes):
                    raise TypeError(value)
                plain[key] = float(value)
            elif key in ("mean", "std"):
                plain[key] = [float(v) for v in value]
            elif key == "class_names":
                plain[key] = list(value)
            elif key == "problem" and not isinstance(value, str):
                raise TypeError(value)
            elif key == "card":
                if not isinstance(value, Mapping):
                    raise TypeError(value)
                plain[key] = dict(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}.{key}={value!r}: expected {_KINDS[key]}") from None
    return plain


_KINDS = {
    "input_shape": "a list of sizes (or one per input) or null",
    "raw_max": "a number",
    "threshold": "a number or null",
    "mean": "a list of numbers",
    "std": "a list of numbers",
    "problem": "a name or null",
    "class_names": "a list of names or null",
    "card": "a mapping or null",
}


@dataclass(frozen=True, eq=False)
class PretrainedRecord(Mapping[str, Any]):
    """How raw samples become a model's inputs and what its outputs mean (the module docstring
    says each field): timm's `PretrainedCfg`, typed and immutable, that still reads as the JSON
    dict config.json stores, so `model.pretrained_cfg["mean"]` and `dict(...)` keep working."""

    input_shape: Shape | None = None
    raw_max: float = 1.0
    threshold: float | None = None
    mean: list[float] = field(default_factory=lambda: [0.0])
    std: list[float] = field(default_factory=lambda: [1.0])
    problem: str | None = None
    class_names: list[str] | None = None
    card: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        """Every field as a plain JSON-ready value (lists, floats), or a ValueError naming it."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name, value in _plain(fields, "pretrained_cfg").items():
            object.__setattr__(self, name, value)  # frozen: set once, here

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "pretrained_cfg") -> PretrainedRecord:
        """The record a dict holds (config.json's `pretrained_cfg`, a checkpoint's); a key
        that is no field is refused with a ValueError naming it (and `where` it was read)."""
        if isinstance(data, PretrainedRecord):
            return data
        if not isinstance(data, Mapping):
            raise ValueError(
                f"{where}: a {type(data).__name__}; expected a mapping of {', '.join(_FIELDS)}"
            )
        _refuse_unknown(data, where)
        return cls(**_plain(data, where))

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready values, the keys in field order (`card` only when
        there is one): what config.json and checkpoints store."""
        return {key: copy.deepcopy(value) for key, value in self.items()}

    def with_changes(self, **changes: Any) -> PretrainedRecord:
        """A copy with `changes` (`dataclasses.replace`); `card=None` leaves the card out. An
        unknown key is refused with a ValueError naming it."""
        _refuse_unknown(changes, "pretrained_cfg changes")
        return dataclasses.replace(self, **changes)

    def __getitem__(self, key: str) -> Any:
        if key not in _FIELDS or (key == "card" and self.card is None):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return (key for key in _FIELDS if key != "card" or self.card is not None)

    def __len__(self) -> int:
        return len(_FIELDS) - (self.card is None)


_FIELDS = tuple(f.name for f in dataclasses.fields(PretrainedRecord))


def _refuse_unknown(keys: Iterable[Any], where: str) -> None:
    unknown = [key for key in keys if key not in _FIELDS]
    if unknown:
        raise ValueError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; expected some of {', '.join(_FIELDS)}"
        )


def make_record(
    input_shape: Sequence[Any],
    raw_max: float = 1.0,
    mean: Sequence[float] = (0.0,),
    std: Sequence[float] = (1.0,),
    problem: str | None = None,
    class_names: Sequence[str] | None = None,
    threshold: float | None = None,
) -> PretrainedRecord:
    """A preprocessing record with plain Python values (see the module docstring)."""
    return PretrainedRecord(
        input_shape=as_lists(input_shape),
        raw_max=raw_max,
        threshold=threshold,
        mean=list(mean),
        std=list(std),
        problem=problem,
        class_names=list(class_names) if class_names is not None else None,
    )


def as_lists(shape: Any) -> Any:
    """A shape (or one shape per input) as plain nested lists of ints, as configs hold them."""
    return [as_lists(s) for s in shape] if isinstance(shape, list | tuple) else int(shape)


def first_shape(record: Record) -> tuple[int, ...]:
    """The shape of one sample of the (first) input."""
    shape = record["input_shape"]
    if not shape:
        raise ValueError("the model's record has no input shape: it cannot preprocess samples")
    return tuple(shape[0] if isinstance(shape[0], list) else shape)


def _stat(record: Record, key: str, like: torch.Tensor) -> torch.Tensor:
    values = torch.tensor(record[key], dtype=like.dtype, device=like.device)
    channel_dims = max(like.dim() - 2, 0)
    return values.view(1, -1, *([1] * channel_dims)) if len(values) > 1 else values


def normalize(unit: torch.Tensor, record: Record) -> torch.Tensor:
    """Samples scaled to [0, 1] -> model inputs: (x - mean) / std."""
    return (unit - _stat(record, "mean", unit)) / _stat(record, "std", unit)


def preprocess(raw: torch.Tensor, record: Record) -> torch.Tensor:
    """Raw samples (N, *input_shape), as the dataset stores them, -> model inputs."""
    shape = first_shape(record)
    if raw.dim() != len(shape) + 1 or tuple(raw.shape[1:]) != shape:
        raise ValueError(
            f"expected raw samples of shape (N, {', '.join(map(str, shape))}), "
            f"got {tuple(raw.shape)}"
        )
    unit = raw.float() / record["raw_max"]
    if record.get("threshold") is not None:  # Bernoulli pixels: on where at least this inked
        unit = (unit >= record["threshold"]).float()
    return normalize(unit, record)


def input_range(record: Record) -> tuple[torch.Tensor, torch.Tensor]:
    """What raw 0 and raw_max become as model inputs, shaped (1, *input_shape): the bounds of
    valid inputs (for adversarial examples, input optimisation and range checks)."""
    zeros = torch.zeros(1, *first_shape(record))
    return normalize(zeros, record), normalize(zeros + 1, record)


def out_of_range(x: torch.Tensor, record: Record, slack: float = 0.5) -> bool:
    """Whether model inputs `x` stray beyond the valid range by more than `slack` of its width:
    e.g. raw pixels (0-255) passed where standardised ones were expected."""
    low, high = input_range(record)
    width = (high - low).abs()
    return bool(((x < low - slack * width) | (x > high + slack * width)).any())


def default_record(model: Any, config: Mapping[str, Any]) -> PretrainedRecord:
    """The preprocessing record of a model that no data has set yet: its config's input shape
    (None when it has none), raw values already in [0, 1] and not standardised (raw_max 1,
    mean 0, std 1), the problem of its head (`multitask` for `heads`, else None), no class
    names."""
    shape = config.get("input_shape")
    shapes = config.get("input_shapes")
    if shape is None and isinstance(shapes, Mapping):
        shape = [shapes[name] for name in config.get("modalities") or shapes]
    head = getattr(model, "head", None)
    problem = getattr(head, "problem", None) or ("multitask" if hasattr(model, "heads") else None)
    return PretrainedRecord(input_shape=None if shape is None else shape, problem=problem or None)
