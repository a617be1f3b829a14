"""The preprocessing record a model carries (`model.pretrained_cfg`, after timm's idea): what one
sample looks like and how raw samples become model inputs, so inference needs no data module.

A record is a plain, JSON-ready dict:

| key           | meaning                                                                   |
| input_shape   | one sample, e.g. [1, 8, 8] (a list of shapes for multi-input models)      |
| raw_max       | the raw value that maps to 1 (16 for the bundled digits, 255 for 8-bit)  |
| threshold     | binarise after scaling to [0, 1] (x >= threshold), or null              |
| mean, std     | per-channel statistics applied after scaling to [0, 1] (one value: all)  |
| problem       | binary / multilabel / multiclass / regression / ...                      |
| class_names   | one name per output class, or null                                       |
| card          | for loaded weights: their card (dataset, metrics, command, sha256, ...)  |

Model input = (raw / raw_max - mean) / std, channel-wise (binarised at `threshold` first when
there is one); for multi-input models it applies to the first input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

Record = dict[str, Any]


def make_record(
    input_shape: Sequence[Any],
    raw_max: float = 1.0,
    mean: Sequence[float] = (0.0,),
    std: Sequence[float] = (1.0,),
    problem: str | None = None,
    class_names: Sequence[str] | None = None,
    threshold: float | None = None,
) -> Record:
    """A preprocessing record with plain Python values (see the module docstring)."""
    return {
        "input_shape": as_lists(input_shape),
        "raw_max": float(raw_max),
        "threshold": threshold,
        "mean": [float(m) for m in mean],
        "std": [float(s) for s in std],
        "problem": problem,
        "class_names": list(class_names) if class_names is not None else None,
    }


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


def default_record(model: Any, config: Mapping[str, Any]) -> dict[str, Any]:
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
    record = make_record([] if shape is None else shape, problem=problem or None)
    if shape is None:
        record["input_shape"] = None
    return record
