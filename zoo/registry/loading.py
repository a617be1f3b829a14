"""Models from names, directories and checkpoints: one road for every load. A model read
from a file is built first on the meta device and compared with its weights' shapes, then
built for real and loaded; its config can name registered architectures only
(`zoo.utils.builder`)."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from zoo.patterns.interface import HasHead
from zoo.registry.adapt import adapt_input_conv, first_conv, fit_to_data
from zoo.registry.files import (
    CONFIG,
    MAX_CONFIG_BYTES,
    ModelFiles,
    _shape,
    _state_differences,
    _stored_record,
    load_weights,
    read_card,
    read_config,
    read_model_files,
    warn_if_newer,
)
from zoo.registry.names import _weights_dir, list_models, weights_name
from zoo.training.presets import override, preset_config
from zoo.utils.builder import build_model, register
from zoo.utils.preprocessing import PretrainedRecord
from zoo.utils.safe_files import load_checkpoint_file

MAX_NEW_ELEMENTS = 1 << 28
"""What a model read from a file may hold beyond its weights file (layers re-initialised with
`strict=False`, buffers the file does not store): 2^28 numbers, 1 GiB of float32."""


def get_pretrained_cfg(name: str) -> PretrainedRecord:
    """The preprocessing record of weights named `name` (a `PretrainedRecord`, see
    `zoo.utils.preprocessing`: input_shape, raw_max, threshold, mean, std, problem,
    class_names) with their `card`, read without loading the weights. For an architecture:
    the record a fresh `create_model(name)` carries."""
    if name in list_models():
        return cast(PretrainedRecord, create_model(name).pretrained_cfg)
    return _stored_record(_weights_dir(name))


def model_config(name: str, **overrides: Any) -> dict[str, Any]:
    """The config (a `_target_` tree, resolved) that `create_model(name, **overrides)` builds:
    an architecture's preset or the exact config of weights named `name`."""
    if name in list_models():
        return preset_config(name, overrides)
    directory = _weights_dir(name)
    stored = read_config(directory)
    architecture = read_card(directory).get("architecture")
    record = stored.get("pretrained_cfg") or {}
    config, rest, _ = fit_to_data(stored["model"], record, architecture, overrides)
    return override(config, rest)


def create_model(
    name: str, pretrained: bool = False, strict: bool = True, **kwargs: Any
) -> nn.Module:
    """A model by name: an architecture (`list_models()`), weights (`list_pretrained()`, or
    the experiment that trained them, e.g. `cnn_digits`) or a model directory.

    - `create_model("cnn", num_classes=5, input_shape=[1, 28, 28])`: a fresh model from the
      preset; `input_shape`, `num_classes` / `num_outputs` (and `in_channels`, `in_features`,
      `problem`) describe the data (the preset's `data_spec`); where a preset does not read
      them they are plain overrides.
    - `create_model("cnn.digits")`: the architecture of those weights, freshly initialised,
      carrying their preprocessing record; `pretrained=True` loads the weights (offline,
      sha256-checked). `create_model("vae", pretrained=True)` loads the architecture's
      weights when it has exactly one set, and otherwise fails naming them.

    `num_classes=0` gives the features before the head (timm's convention): the model's
    `reset_classifier(0)`, its weights otherwise as loaded.

    Other keyword arguments override config keys, by dotted path, `__` path or unique suffix:
    `dropout=0.1`, `backbone__hidden=[32]`, `backbone___args___1__dropout=0.1`,
    `**{"backbone._args_.1.dropout": 0.1}`. With pretrained weights, a changed shape fails
    unless `strict=False`, which re-initialises the layers that no longer fit and warns which
    keys it adapted. Weights take new data as timm's do: `input_shape`, `in_channels`,
    `image_size` or `num_classes` rework the widths their preset takes from the data
    (`zoo.registry.adapt.fit_to_data`), and the first convolution's weight is adapted to the
    new channels (`adapt_input_conv`). Returns the model, carrying `zoo_config` and
    `pretrained_cfg`.
    """
    if kwargs.get("num_classes") == 0:  # timm's convention: the pooled features, no head
        del kwargs["num_classes"]
        model = create_model(name, pretrained, strict, **kwargs)
        if not isinstance(model, HasHead):
            raise ValueError(
                f"num_classes=0: {name!r} builds a {type(model).__name__}, which has no "
                "classifier to remove; expected a pattern that ends in a head (Classifier, ...)"
            )
        model.reset_classifier(0)
        return model
    if name in list_models():
        if pretrained:
            return create_model(weights_name(name), True, strict, **kwargs)
        return start_from(build_model(preset_config(name, kwargs)))
    directory = Path(name) if Path(name).is_dir() else _weights_dir(name)
    if pretrained:
        return from_pretrained(directory, strict=strict, **kwargs)
    files = read_model_files(directory)
    config, changes = _fitted_config(files, kwargs)
    model = _build_to_load(config, files.shapes(), strict, source=directory / CONFIG)
    _carry(model, files.record(model).with_changes(**changes, card=None))
    return model


def _fitted_config(
    files: ModelFiles, overrides: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The config of weights read in `files` for the data `overrides` describe (widths the
    preset takes from the data worked out again: `fit_to_data`), other overrides applied; and
    what changes in their preprocessing record."""
    record = files.config.get("pretrained_cfg") or {}
    architecture = files.card.get("architecture")
    config, rest, changes = fit_to_data(files.config["model"], record, architecture, overrides)
    return override(config, rest), changes


def _carry(model: nn.Module, record: PretrainedRecord) -> None:
    """Set `model.pretrained_cfg` to the preprocessing `record`: `nn.Module` types its
    attributes as tensors and modules, so this plain value is set by name."""
    setattr(model, "pretrained_cfg", record)  # noqa: B010 (typed as Tensor | Module otherwise)


def load_state(
    model: nn.Module, state: Mapping[str, torch.Tensor], strict: bool = True
) -> list[str]:
    """Copy `state` into `model`. Strict: every key and shape must match, else nothing is
    loaded. Not strict: the first convolution's weight takes another number of input channels
    as timm adapts it (`adapt_input_conv`), other mismatched or missing entries keep their
    fresh initialisation; returns (and warns, in one line, about) the keys re-initialised."""
    own = model.state_dict()
    details = _state_differences(own, state)
    if strict and details:
        raise RuntimeError(
            f"weights do not fit {type(model).__name__} ({'; '.join(details)}); nothing was "
            "loaded. Pass strict=False to re-initialise what does not fit."
        )
    state, note = _adapt_channels(model, own, state)
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    reshaped = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    fitting = {k: v for k, v in state.items() if k in own and k not in reshaped}
    model.load_state_dict(fitting, strict=False)
    adapted = sorted([*missing, *reshaped])
    if adapted or note:  # one line: what was re-initialised, ignored and adapted
        said = [f"re-initialised (not loaded): {adapted}", f"ignored: {unexpected}", note]
        warnings.warn("; ".join(s for s in said if not s.endswith(": []") and s), stacklevel=3)
    return adapted


def _adapt_channels(
    model: nn.Module, own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor]
) -> tuple[Mapping[str, torch.Tensor], str]:
    """`state` with the weight of `model`'s first convolution adapted to the model's input
    channels (`adapt_input_conv`) when only they differ, and a note saying so ("" if not)."""
    key = first_conv(model)
    if key is None or key not in own or key not in state:
        return state, ""
    new, old = own[key].shape, state[key].shape
    if new == old or len(new) != len(old) or (new[0], *new[2:]) != (old[0], *old[2:]):
        return state, ""
    adapted = {**state, key: adapt_input_conv(new[1], state[key])}
    return adapted, f"adapted {key} from {old[1]} to {new[1]} input channels (timm's rule)"


def from_pretrained(
    directory: str | Path,
    strict: bool = True,
    allowed: tuple[str, ...] = (),
    **overrides: Any,
) -> nn.Module:
    """The model saved in `directory` (by `save_pretrained`, or shipped), in eval mode, with
    its preprocessing record and card (`model.pretrained_cfg`).

    Its config may name registered architectures only (`zoo.utils.builder`), plus classes under the
    package prefixes the caller trusts (`allowed=("mypkg.",)`). Keyword overrides change the
    config as in `create_model`; `strict` as there."""
    files = read_model_files(directory)  # card, config and weights read once, each checked
    warn_if_newer(files.card, files.directory)
    config, changes = _fitted_config(files, overrides)
    source = files.directory / CONFIG
    model = _build_to_load(config, files.shapes(), strict, allowed, source=source)
    load_state(model, files.state(), strict=strict)
    _carry(model, files.record(model).with_changes(**changes))
    return model.eval()


def load_pretrained(
    module: nn.Module, source: str | Path, prefix: str = "", strict: bool = True
) -> nn.Module:
    """Load the weights under `prefix` of a pretrained model into `module` (e.g. a pretrained
    backbone into the encoder of a Siamese or multi-task model); returns `module`. `source`:
    a weights name or a model directory."""
    directory = Path(source) if Path(source).is_dir() else _weights_dir(str(source))
    state = {
        k.removeprefix(prefix): v
        for k, v in load_weights(directory).items()
        if k.startswith(prefix)
    }
    if not state:
        raise KeyError(f"no weights under prefix {prefix!r} in {directory}")
    load_state(module, state, strict=strict)
    return module


def start_from(model: nn.Module) -> nn.Module:
    """Load the pretrained weights that `model.zoo_config["init_from"]` names, `{weights,
    prefix, into}`: the weights under `prefix` into the submodule `into` (e.g. a SimCLR
    backbone into a classifier's); returns `model`. A model about to receive its own trained
    weights skips this."""
    start = (getattr(model, "zoo_config", None) or {}).get("init_from")
    if not start:
        return model
    if set(start) - {"weights", "prefix", "into"} or "weights" not in start:
        raise ValueError(
            f"model.init_from={dict(start)}: expected keys weights, prefix, into (weights required)"
        )
    load_pretrained(
        model.get_submodule(start.get("into") or ""), start["weights"], start.get("prefix") or ""
    )
    return model


def load_checkpoint(path: str | Path, strict: bool = True) -> nn.Module:
    """The network of a train.py checkpoint (a Lightning .ckpt), rebuilt without Hydra, in
    eval mode, with the preprocessing record of the data it was trained on."""
    checkpoint = load_checkpoint_file(path, mmap=True)  # nothing is read before it is checked
    return model_of_checkpoint(checkpoint, Path(path), strict)


def model_of_checkpoint(
    checkpoint: Mapping[str, Any], path: Path, strict: bool = True
) -> nn.Module:
    """The network of a checkpoint already read (memory-mapped) from `path`, as
    `load_checkpoint` gives it: a command that needs the rest of the file reads it once."""
    record = checkpoint.get("zoo") or {}
    config = record.get("model")
    if config is None:
        raise ValueError(f"{path} has no zoo model config: was it written by train.py?")
    if not isinstance(config, dict) or len(json.dumps(config, default=str)) > MAX_CONFIG_BYTES:
        raise ValueError(
            f"{path}: its model config is not a config of at most {MAX_CONFIG_BYTES} bytes"
        )
    state = {
        k.removeprefix("net."): v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("net.")
    }
    model = _build_to_load(config, state, strict, source=path)
    load_state(model, state, strict=strict)
    stored = record.get("pretrained_cfg") or _record_of_run_data(record.get("run"))
    if stored:
        _carry(model, PretrainedRecord.from_dict(stored, where=f"{path}: pretrained_cfg"))
    return model.eval()


def _record_of_run_data(run: Mapping[str, Any] | None) -> PretrainedRecord | None:
    """The preprocessing record of a run's data, for checkpoints written before records were
    saved with them (None if the data cannot be built here)."""
    data = (run or {}).get("data")
    if not data:
        return None
    from zoo.utils.builder import build

    try:
        record = build(data, kinds=("data",), where="run.data").preprocessing_record()
    except (OSError, RuntimeError, ValueError) as error:
        warnings.warn(
            f"no preprocessing record: the run's data cannot be built ({error})", stacklevel=3
        )
        return None
    return PretrainedRecord.from_dict(record, where="run.data: preprocessing_record()")


def _build_to_load(
    config: Mapping[str, Any],
    shapes: Mapping[str, Any],
    strict: bool,
    allowed: tuple[str, ...] = (),
    source: Path | None = None,
) -> nn.Module:
    """The model of `config` (read from `source`), once its skeleton, built on the meta
    device, matches the weights' `shapes` (strict) or adds at most `MAX_NEW_ELEMENTS` numbers
    to them: no memory is spent on a config that does not fit its weights. Built without
    moving the global random state: its initial weights are about to be overwritten, and a
    teacher or judge loaded inside a seeded run must leave that run's stream as it was."""
    where = f"{source}: model" if source else "model"
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lazy layers' warnings, said again by the real build
        try:
            skeleton = build_model(config, allowed=allowed, where=where)
        except TypeError as error:  # arguments the classes do not take: the file is wrong
            raise ValueError(f"{where} cannot be built: {error}") from None
    own = {
        k: tuple(v.shape)
        for k, v in skeleton.state_dict().items()
        if not nn.parameter.is_lazy(v)  # lazy: shaped by the weights
    }
    name = type(skeleton).__name__
    differences = _state_differences(own, shapes)
    if strict and differences:
        raise RuntimeError(
            f"{where} builds {name}, whose weights do not fit the file's "
            f"({'; '.join(differences)}); nothing was built. Pass strict=False to "
            "re-initialise what does not fit."
        )
    stored = {k for k in own if k in shapes and _shape(shapes[k]) == own[k]}
    new = sum(math.prod(s) for k, s in own.items() if k not in stored)
    new += sum(b.numel() for k, b in skeleton.named_buffers() if k not in own)
    if new > MAX_NEW_ELEMENTS:
        raise ValueError(
            f"{where} builds {name} with {new:,} numbers that its weights do not hold; "
            f"expected at most {MAX_NEW_ELEMENTS:,}: nothing was allocated"
        )
    with torch.random.fork_rng(devices=[]):
        return build_model(config, allowed=allowed, where=where)


@register("task", name="zoo.load_model")  # a teacher or judge a task config names
def load_model(source: str | Path, allowed: tuple[str, ...] = ()) -> nn.Module:
    """A trained network from what a user names: weights (`list_pretrained()`, or their
    experiment's name), a directory written by `save_pretrained` (its config may name
    callables under the `allowed` prefixes too), or a train.py checkpoint (`.ckpt`)."""
    path = Path(source)
    if path.suffix == ".ckpt":
        return load_checkpoint(path)
    if path.is_dir():
        return from_pretrained(path, allowed=allowed)
    return create_model(str(source), pretrained=True)
