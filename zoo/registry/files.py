"""The files of a model directory: `config.json` (the config that builds the model and its
preprocessing record), `model.safetensors` and `card.json` (dataset, split, test metrics,
parameter count, command, and the sha256 of the weights and of the config). Each is read once,
checked against the card, and written so that a kill never leaves a directory that loads."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.utils.atomic import atomic_path, write_text_atomic
from zoo.utils.builder import build_model
from zoo.utils.preprocessing import PretrainedRecord, default_record
from zoo.utils.safe_files import sha256

CONFIG = "config.json"
"""A model directory's config: what builds the model, and its preprocessing record."""
WEIGHTS = "model.safetensors"
"""A model directory's weights (safetensors: read without unpickling anything)."""
CARD = "card.json"
"""A model directory's card: data, metrics, command, and the sha256 of weights and config."""


class ChecksumError(RuntimeError):
    """A weight or config file whose sha256 differs from the one on its card."""


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if hasattr(value, "shape") else tuple(value)


def _state_differences(
    own: Mapping[str, Any], other: Mapping[str, Any], most: int = 8
) -> list[str]:
    """What differs between two state dicts (tensors or shapes): missing, unexpected and
    reshaped keys, at most `most` of each named."""
    missing = sorted(set(own) - set(other))
    unexpected = sorted(set(other) - set(own))
    reshaped = sorted(k for k in set(own) & set(other) if _shape(own[k]) != _shape(other[k]))
    return [
        f"{label}: {keys[:most]}" + (f" and {len(keys) - most} more" if len(keys) > most else "")
        for label, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("shape differs", reshaped),
        )
        if keys
    ]


MAX_CONFIG_BYTES = 1 << 20
"""A model's config (config.json, or a checkpoint's) is a few kilobytes: a larger one is refused
before it is parsed."""


def _read_json(path: Path) -> dict[str, Any]:
    """A model directory's JSON file as a dict, refused in one line when it is missing, too
    large to be a config or card, or not a JSON object."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: a model directory needs {path.name}")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(
            f"{path}: {path.stat().st_size} bytes; expected a config or card under "
            f"{MAX_CONFIG_BYTES} bytes"
        )
    return _parse_json(path, path.read_bytes())


def _parse_json(path: Path, data: bytes) -> dict[str, Any]:
    """`data`, the bytes of the file `path`, as a JSON object, or a ValueError naming it."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(
            f"{path}: {len(data)} bytes; expected a config or card under {MAX_CONFIG_BYTES} bytes"
        )
    try:
        found = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not JSON ({error}); expected a JSON object") from None
    if not isinstance(found, dict):
        raise ValueError(f"{path}: holds a {type(found).__name__}; expected a JSON object")
    return found


def read_config(directory: str | Path) -> dict[str, Any]:
    """The config.json of a model directory, after its sha256 matches the card's
    `config_sha256` (a ChecksumError names the file otherwise): the card covers everything
    that builds the model, its config and preprocessing record as well as its weights."""
    return _checked_config_file(Path(directory), read_card(directory))


def _checked_config_file(directory: Path, card: Mapping[str, Any]) -> dict[str, Any]:
    path = directory / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: a model directory needs {CONFIG}")
    if path.stat().st_size > MAX_CONFIG_BYTES:  # refused unread
        raise ValueError(f"{path}: expected a config under {MAX_CONFIG_BYTES} bytes")
    data = path.read_bytes()
    actual, expected = hashlib.sha256(data).hexdigest(), card.get("config_sha256")
    if expected != actual:
        said = f"says {expected}" if expected else "holds no config_sha256"
        raise ChecksumError(
            f"{path} has sha256 {actual}, but its card {said}: the config was changed or "
            "never checked; nothing was built (if you trust this config, write its sha256 "
            "into card.json as config_sha256)"
        )
    config = _parse_json(path, data)
    if not isinstance(config.get("model"), dict):
        raise ValueError(f"{path}: holds no model config; expected {{'model': {{...}}}}")
    return config


@dataclass(frozen=True)
class ModelFiles:
    """A model directory read once, each file checked against the card before it is used:
    the card, the config (`{"model": ..., "pretrained_cfg": ...}`) and the weights' bytes."""

    directory: Path
    card: dict[str, Any]
    config: dict[str, Any]
    weights: bytes

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor's name and shape, from the safetensors header alone."""
        size = int.from_bytes(self.weights[:8], "little")
        header = json.loads(self.weights[8 : 8 + size])
        return {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}

    def state(self) -> dict[str, torch.Tensor]:
        """The weights as tensors (safetensors: nothing is unpickled)."""
        from safetensors.torch import load

        return load(self.weights)

    def record(self, model: nn.Module | None = None) -> PretrainedRecord:
        """The preprocessing record saved in the config (or `model`'s default one, else the
        defaults), with the card; a stored record with unknown keys is refused naming them."""
        stored = self.config.get("pretrained_cfg")
        if stored is not None:
            where = f"{self.directory / CONFIG}: pretrained_cfg"
            record = PretrainedRecord.from_dict(stored, where=where)
        elif model is not None:
            record = default_record(model, self.config["model"])
        else:
            record = PretrainedRecord()
        return record.with_changes(card=self.card)


def read_model_files(directory: str | Path) -> ModelFiles:
    """A model directory's card, config and weights, each read once; the config and the
    weights only after their sha256 match the card (a ChecksumError names the file)."""
    directory = Path(directory)
    card = read_card(directory)
    config = _checked_config_file(directory, card)
    return ModelFiles(directory, card, config, _checked_weights_bytes(directory, card))


def warn_if_newer(card: Mapping[str, Any], directory: Path) -> None:
    """Warn when a card was written by a newer zoo than the one installed: its config may use
    what this version does not know."""
    from packaging.version import InvalidVersion, Version

    import zoo

    written = card.get("zoo_version")
    try:
        newer = written is not None and Version(str(written)) > Version(zoo.__version__)
    except InvalidVersion:
        newer = True
    if newer:
        warnings.warn(
            f"{directory / CARD} was written by zoo {written}, newer than the installed "
            f"{zoo.__version__}: upgrade zoo if the model does not load as its card says",
            UserWarning,
            stacklevel=3,
        )


def read_card(directory: str | Path) -> dict[str, Any]:
    """The card.json of a model directory, as a dict."""
    return _read_json(Path(directory) / CARD)


def num_params(model: nn.Module) -> int:
    """The number of parameters of `model`."""
    return sum(p.numel() for p in model.parameters())


def _stored_record(directory: Path, model: nn.Module | None = None) -> PretrainedRecord:
    """The record saved in a model directory's config.json (or the model's default one), with
    the directory's card, read without the weights."""
    card = read_card(directory)
    files = ModelFiles(directory, card, _checked_config_file(directory, card), b"")
    return files.record(model)


def _checked_config(model: nn.Module, config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` if it builds a model with `model`'s state-dict keys and shapes, else a
    ValueError saying what differs."""
    with torch.device("meta"):  # the caller's own config: any target
        built = build_model(config, allowed=("",))
    differences = _state_differences(built.state_dict(), model.state_dict())
    if differences:
        raise ValueError(
            f"config= builds a {type(built).__name__} whose weights do not match the "
            f"{type(model).__name__} being saved ({'; '.join(differences)}): nothing was saved"
        )
    return json.loads(json.dumps(config))


def save_pretrained(
    model: nn.Module,
    directory: str | Path,
    card: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> Path:
    """Write config.json (the config that builds `model` and its preprocessing record),
    model.safetensors and card.json into `directory`; returns the directory.

    The config is `config=` (a `_target_` tree, checked to build a model with the same weight
    keys and shapes) or the one the model was built from (`model.zoo_config`). The card is
    the model's own (a loaded model keeps its card), updated by `card`, with `num_params` and
    `sha256` of the new file."""
    from safetensors.torch import save_file

    if config is not None:
        config = _checked_config(model, config)
    else:
        config = getattr(model, "zoo_config", None)
    if config is None:
        name = type(model).__name__
        raise ValueError(
            f"{name} has no zoo_config (it was not built by zoo.create_model, "
            "zoo.utils.builder.build_model or train.py): pass config=, a `_target_` tree that builds "
            f"it, e.g. save_pretrained(net, dir, config={{'_target_': "
            f"'{type(model).__module__}.{name}', ...}})"
        )
    carried = getattr(model, "pretrained_cfg", None) or default_record(model, config)
    record = PretrainedRecord.from_dict(carried, where=f"{type(model).__name__}.pretrained_cfg")
    card = {**(record.card or {}), **(card or {})}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # Each file is replaced whole, and the card, which holds the weights' sha256, comes last:
    # a kill before it leaves weights that fail their checksum, so nothing half-saved loads.
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS) as weights:
        save_file(state, weights)
        card |= {"num_params": num_params(model), "sha256": sha256(weights)}
    stored = record.with_changes(card=None).to_dict()  # the card is card.json
    config_text = json.dumps({"model": config, "pretrained_cfg": stored}, indent=2) + "\n"
    write_text_atomic(directory / CONFIG, config_text)
    card["config_sha256"] = hashlib.sha256(config_text.encode()).hexdigest()
    write_text_atomic(directory / CARD, json.dumps(card, indent=2) + "\n")
    return directory


def _checked_weights_bytes(directory: Path, card: Mapping[str, Any]) -> bytes:
    """The weights file's bytes, once their sha256 matches the card."""
    path = directory / WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: a model directory needs {WEIGHTS}")
    data = path.read_bytes()
    actual, expected = hashlib.sha256(data).hexdigest(), card.get("sha256")
    if expected != actual:
        raise ChecksumError(
            f"{path} has sha256 {actual}, but its card says {expected}: "
            "the file is damaged or was changed; nothing was loaded"
        )
    return data


def weight_shapes(directory: str | Path) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a model directory's weights, read from the
    safetensors header (checksum first) without loading any tensor."""
    directory = Path(directory)
    weights = _checked_weights_bytes(directory, read_card(directory))
    return ModelFiles(directory, {}, {}, weights).shapes()


def load_weights(directory: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of a model directory, after its sha256 matches the card (else a
    ChecksumError, and nothing is loaded)."""
    directory = Path(directory)
    weights = _checked_weights_bytes(directory, read_card(directory))
    return ModelFiles(directory, {}, {}, weights).state()
