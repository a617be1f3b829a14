"""Pretrained weights on other data, as timm's `create_model(name, pretrained=True, in_chans=,
num_classes=)`: the widths a preset takes from the data are worked out again for the new input
shape or class count (a shipped config holds them resolved for the data it was trained on), so
the layers that still fit keep their weights, the first convolution takes the new channels
(`adapt_input_conv`) and only the rest starts afresh (`zoo.registry.loading.load_state`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from zoo.blocks.shapes import shape_spec
from zoo.training.presets import (
    SPEC_READ,
    compose_preset,
    head_for,
    preset_config,
    preset_names,
    spec_reads,
)
from zoo.utils.preprocessing import as_lists


def adapt_input_conv(in_channels: int, weight: torch.Tensor) -> torch.Tensor:
    """A convolution's weight `(O, I, *kernel)` for `in_channels` input channels, by the rule of
    timm's `adapt_input_conv` (timm/models/_manipulate.py): to one channel, the sum over the I
    channels; to C channels, the I channels repeated ceil(C/I) times, cut to C and scaled by
    I/C. timm assumes I=3 (RGB); any I here, so a grey model takes RGB. Why this rule: an input
    whose channels are all equal (a grey image repeated) gives the output the original gave on
    its own channels, exactly when going to one channel or when I divides C."""
    old = weight.shape[1]
    if in_channels == old:
        return weight
    if in_channels < 1:
        raise ValueError(f"in_channels={in_channels}: expected a positive count")
    w = weight.float()  # half-precision weights: sum in float32
    if in_channels == 1:
        w = w.sum(1, keepdim=True)
    else:
        repeats = (1, math.ceil(in_channels / old), *[1] * (w.dim() - 2))
        w = w.repeat(*repeats)[:, :in_channels] * (old / in_channels)
    return w.to(weight.dtype)


def first_conv(model: nn.Module) -> str | None:
    """The state-dict key of the weight of `model`'s first convolution (registration order,
    which is the order a stem comes in): the layer that reads the input's channels."""
    convs = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    return next((f"{n}.weight" for n, m in model.named_modules() if isinstance(m, convs)), None)


def fit_to_data(
    config: Mapping[str, Any],
    record: Mapping[str, Any],
    architecture: str | None,
    kwargs: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Weights' `config` refitted to the data that `kwargs` describe (`input_shape`,
    `in_channels`, `image_size`, `num_classes` / `num_outputs`): each value that the
    `architecture`'s preset reads from `data_spec` is the preset's for the new data, and a width
    the preset leaves to a dry run (`in_features: null`) is left to it again. `record` is the
    weights' preprocessing record (the old input shape, the classes).

    Returns the config, the keyword arguments left (plain overrides) and the record's entries
    that change. Weights of no known preset (`architecture` None) keep every keyword argument."""
    rest = dict(kwargs)
    if architecture not in preset_names():
        return dict(config), rest, {}
    problem = record.get("problem")
    template = head_for(compose_preset(str(architecture)), problem)
    reads = set(spec_reads(template))
    old = as_lists(record.get("input_shape") or config.get("input_shape"))
    shape = _new_shape(old, rest) if reads & {"input_shape", "in_channels", "in_features"} else None
    spec: dict[str, Any] = {} if shape is None else shape_spec(shape)
    for key in ("num_classes", "num_outputs"):
        if key in rest and "num_outputs" in reads:
            spec["num_outputs"] = rest.pop(key)
    if not spec:
        return dict(config), rest, {}
    problem_kwargs = {"problem": problem} if problem else {}
    resolved = preset_config(str(architecture), {"data_spec": spec, **problem_kwargs})
    fitted = _refit(config, template, resolved, set(spec), lazy=shape is not None)
    return fitted, rest, _record_changes(record, shape, spec.get("num_outputs"))


def _new_shape(old: Any, kwargs: dict[str, Any]) -> list[Any] | None:
    """The input shape `kwargs` ask for, taken out of them: `input_shape`, or the old image
    (C, H, W) with `in_channels` and/or a square `image_size`; None if they ask for none."""
    shape = kwargs.pop("input_shape", None)
    channels, size = kwargs.pop("in_channels", None), kwargs.pop("image_size", None)
    if shape is None and (channels is not None or size is not None):
        if not (isinstance(old, list) and len(old) == 3 and isinstance(old[0], int)):
            raise ValueError(
                f"in_channels / image_size: the weights take input_shape {old}, not one image "
                "(C, H, W); pass input_shape="
            )
        shape = [channels or old[0], *([size, size] if size else old[1:])]
    return None if shape is None else as_lists(shape)


def _refit(stored: Any, template: Any, resolved: Any, keys: set[str], lazy: bool) -> Any:
    """`stored` (the weights' config) with each value whose `template` (the preset,
    unresolved) reads one of the data's `keys` taken from `resolved` (the preset for the new
    data); with `lazy`, an `in_features` the preset leaves to a dry run is left to it again.
    Only where the two configs build the same thing (the same `_target_` at the same place)."""
    if isinstance(template, str):
        return resolved if set(SPEC_READ.findall(template)) & keys else stored
    if isinstance(stored, list) and isinstance(template, list):  # position by position: an
        # experiment may shorten a preset's list (`_args_` of its own), kept where targets differ
        return [
            _refit(item, template[i], resolved[i], keys, lazy) if i < len(template) else item
            for i, item in enumerate(stored)
        ]
    if not (isinstance(stored, dict) and isinstance(template, dict)):
        return stored
    if stored.get("_target_") != template.get("_target_"):
        return stored
    refitted = dict(stored)
    for key, value in stored.items():
        if key not in template:
            continue
        if key == "in_features" and template[key] is None and lazy:
            refitted[key] = None
        else:
            refitted[key] = _refit(value, template[key], resolved[key], keys, lazy)
    return refitted


def _record_changes(
    record: Mapping[str, Any], shape: list[Any] | None, classes: int | None
) -> dict[str, Any]:
    """What changes in the preprocessing record: the input shape (per-channel statistics of
    another channel count become their mean, which a record applies to every channel) and
    the class names, which name other classes."""
    changes: dict[str, Any] = {}
    if shape is not None:
        changes["input_shape"] = shape
        if shape and isinstance(shape[0], int):
            for key in ("mean", "std"):
                values = record.get(key)
                if isinstance(values, list) and len(values) not in (1, shape[0]):
                    changes[key] = [sum(values) / len(values)]
    names = record.get("class_names")
    if classes is not None and names is not None and len(names) != classes:
        changes["class_names"] = None
    return changes
