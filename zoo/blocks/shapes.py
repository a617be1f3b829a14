"""Shape checks at a module's door: fail early with the shape that was expected."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.nn.parameter import UninitializedParameter

from zoo.utils.preprocessing import as_lists


class ShapeError(ValueError):
    """A batch whose width does not match a module's constructor argument.

    `module` names the module class, `key` the constructor argument that fixed the width
    (e.g. `in_features`), `expected` its value and `got` the width the batch has, so a
    caller holding the config can name the key to change.
    """

    def __init__(self, message: str, module: str, key: str, expected: int, got: int | None):
        super().__init__(message)
        self.module, self.key, self.expected, self.got = module, key, expected, got


def check_features(x: torch.Tensor, expected: int, module: str, key: str = "in_features") -> None:
    """Raise `ShapeError` if the flattened feature size of a batch `x` (N, ...) is not
    `expected` (the value of the module's argument `key`)."""
    got = x[0].numel() if x.dim() > 1 else None
    if got != expected:
        raise ShapeError(
            f"{module} expected input of shape (N, {expected}) or (N, ...) with {expected} "
            f"features per sample, got {tuple(x.shape)} ({key}={expected}, the input has {got})",
            module,
            key,
            expected,
            got,
        )


def check_shape(x: torch.Tensor, expected: tuple[int, ...], module: str) -> None:
    """Raise if a batch `x` is not `(N, *expected)`."""
    if tuple(x.shape[1:]) != tuple(expected) or x.dim() != len(expected) + 1:
        raise ValueError(
            f"{module} expected input of shape (N, {', '.join(map(str, expected))}), "
            f"got {tuple(x.shape)}"
        )


@torch.no_grad()
def output_width(module: torch.nn.Module, input_shape: tuple[int, ...]) -> int:
    """Features per sample that `module` outputs for inputs `(N, *input_shape)`, found by one
    dry run in eval mode (so a config never works out a flattened size by hand). The dry run
    also materialises lazy layers (`nn.LazyLinear`, e.g. an `MLP` with `in_features=None`)."""
    was_training = module.training
    module.eval()
    width = dry_run(module, input_shape)[0].numel()
    module.train(was_training)
    return width


def dry_run(module: torch.nn.Module, input_shape: tuple[int, ...]) -> torch.Tensor:
    """`module` on one zero sample of `input_shape`; a shape its layers cannot take (an image
    too small for its pooling, a signal of another rank) is a ValueError naming the shape."""
    try:
        return module(torch.zeros(1, *input_shape))
    except RuntimeError as error:  # torch's own words come from deep inside a layer
        reason = str(error).strip().splitlines()[0]
        raise ValueError(
            f"{type(module).__name__} cannot take samples of shape {tuple(input_shape)} "
            f"({reason}); expected a shape its layers fit"
        ) from None


def shape_spec(input_shape: Any) -> dict[str, Any]:
    """What a model config reads of a sample shape (`${data_spec.*}`): `input_shape` as lists,
    and for one input its channels (`in_channels`: the first dimension), size (`in_features`),
    `spatial_dims` (the dimensions after the channels: 1 for a signal (C, L), 2 for an image
    (C, H, W)) and, for a square image, `image_size`."""
    shape = as_lists(input_shape)
    spec: dict[str, Any] = {"input_shape": shape}
    if shape and not isinstance(shape[0], list):
        spec |= {
            "in_channels": shape[0],
            "in_features": math.prod(shape),
            "spatial_dims": len(shape) - 1,
        }
        if len(shape) == 3 and shape[1] == shape[2]:
            spec["image_size"] = shape[1]
    return spec


def has_lazy(module: torch.nn.Module) -> bool:
    """Whether `module` still has lazy parameters (an `nn.LazyLinear` never run)."""
    return any(isinstance(p, UninitializedParameter) for p in module.parameters())


@torch.no_grad()
def materialize(module: torch.nn.Module, input_shape: tuple[int, ...]) -> None:
    """Give lazy layers their shapes by one dry run on a zero batch (N=1, eval mode), so a
    model is complete (saved, loaded, optimised) as soon as it is built; no-op without them."""
    if has_lazy(module):
        was_training = module.training
        module.eval()
        dry_run(module, input_shape)
        module.train(was_training)
