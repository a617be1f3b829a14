"""The model registry: names -> configs -> models, and pretrained weights with their cards.

A model directory (shipped under `zoo/registry/<name>/` or written by `save_pretrained`) holds
`config.json` (the config that builds the model), and for trained models `model.safetensors`
and `card.json` (dataset, split, test metrics, parameter count, command, sha256 of the weights).
Weights load only after their sha256 matches the card; nothing is unpickled.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.builder import build_model

REGISTRY = Path(__file__).parent / "registry"
CONFIG, WEIGHTS, CARD = "config.json", "model.safetensors", "card.json"


class ChecksumError(RuntimeError):
    """A weight file whose sha256 differs from the one on its card."""


def _names() -> list[str]:
    return sorted(p.parent.name for p in REGISTRY.glob(f"*/{CONFIG}"))


def list_models(pattern: str = "*", pretrained: bool = False) -> list[str]:
    """Registered model names matching a shell-style `pattern`; only those with weights if
    `pretrained`."""
    names = [n for n in _names() if fnmatch.fnmatch(n, pattern)]
    return [n for n in names if (REGISTRY / n / WEIGHTS).exists()] if pretrained else names


def _model_dir(name: str, pretrained: bool = False) -> Path:
    if name not in _names():
        close = difflib.get_close_matches(name, _names(), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown model {name!r}{hint} (zoo.list_models() lists them all)")
    if pretrained and not (REGISTRY / name / WEIGHTS).exists():
        raise KeyError(
            f"model {name!r} has no pretrained weights; these do: {list_models(pretrained=True)}"
        )
    return REGISTRY / name


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: a model directory needs {CONFIG}")
    return json.loads(path.read_text())


def model_card(name: str) -> dict[str, Any]:
    """The card of a pretrained model: dataset, split, test metrics, parameters, command, ..."""
    return read_card(_model_dir(name, pretrained=True))


def read_card(directory: str | Path) -> dict[str, Any]:
    """The card.json of a model directory."""
    return _read_json(Path(directory) / CARD)


def model_config(name: str) -> dict[str, Any]:
    """The config that builds a registered model (a `_target_` tree)."""
    return _read_json(_model_dir(name) / CONFIG)["model"]


def _override(config: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Apply keyword overrides: `head__num_classes=5` sets config["head"]["num_classes"];
    a bare key (`num_classes=5`) is found wherever it occurs once in the tree."""
    config = json.loads(json.dumps(config))  # deep copy of plain data

    def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
        found = []
        if isinstance(node, dict):
            for k, v in node.items():
                found += [(*prefix, k), *paths(v, (*prefix, k))]
        elif isinstance(node, list):
            for i, v in enumerate(node):
                found += paths(v, (*prefix, i))
        return found

    all_paths = paths(config)
    for key, value in overrides.items():
        parts = tuple(key.replace("__", ".").split("."))
        matches = [
            p for p in all_paths if p[-len(parts) :] == parts and not str(p[-1]).startswith("_")
        ]
        if len(matches) != 1:
            keys = sorted(
                {".".join(map(str, p)) for p in all_paths if not str(p[-1]).startswith("_")}
            )
            why = "matches several keys" if matches else "matches no key"
            raise TypeError(f"override {key}={value!r} {why}; the model's keys are {keys}")
        *parent_path, last = matches[0]
        node = config
        for part in parent_path:
            node = node[part]
        node[last] = value
    return config


def create_model(
    name: str, pretrained: bool = False, strict: bool = True, **overrides: Any
) -> nn.Module:
    """A registered model, fresh or with its pretrained weights (offline, sha256-checked).

    Keyword overrides change the config (`num_classes=5`, `backbone__dropout=0.1`). With
    pretrained weights, a changed shape fails unless `strict=False`, which re-initialises the
    layers that no longer fit and warns which keys it adapted.
    """
    if pretrained:
        return from_pretrained(_model_dir(name, pretrained=True), strict=strict, **overrides)
    return build_model(_override(model_config(name), overrides))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_pretrained(
    model: nn.Module, directory: str | Path, card: Mapping[str, Any] | None = None
) -> Path:
    """Write config.json, model.safetensors and card.json (with sha256 and num_params)."""
    from safetensors.torch import save_file

    config = getattr(model, "zoo_config", None)
    if config is None:
        raise ValueError(
            f"{type(model).__name__} has no zoo_config: build it with zoo.create_model, "
            "zoo.builder.build_model or train.py so its architecture can be saved with it"
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG).write_text(json.dumps({"model": config}, indent=2) + "\n")
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, directory / WEIGHTS)
    card = {**(card or {}), "num_params": num_params(model), "sha256": sha256(directory / WEIGHTS)}
    (directory / CARD).write_text(json.dumps(card, indent=2) + "\n")
    return directory


def load_weights(directory: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of a model directory, after its sha256 matches the card."""
    from safetensors.torch import load_file

    directory = Path(directory)
    expected = _read_json(directory / CARD).get("sha256")
    actual = sha256(directory / WEIGHTS)
    if expected != actual:
        raise ChecksumError(
            f"{directory / WEIGHTS} has sha256 {actual}, but its card says {expected}: "
            "the file is damaged or was changed; nothing was loaded"
        )
    return load_file(directory / WEIGHTS)


def load_state(
    model: nn.Module, state: Mapping[str, torch.Tensor], strict: bool = True
) -> list[str]:
    """Copy `state` into `model`. Strict: every key and shape must match, else nothing is
    loaded. Not strict: mismatched or missing entries keep their fresh initialisation;
    returns (and warns about) the keys adapted."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    reshaped = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if strict and (missing or unexpected or reshaped):
        details = [
            f"{label}: {keys}"
            for label, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("shape differs", reshaped),
            )
            if keys
        ]
        raise RuntimeError(
            f"weights do not fit {type(model).__name__} ({'; '.join(details)}); nothing was "
            "loaded. Pass strict=False to re-initialise what does not fit."
        )
    fitting = {k: v for k, v in state.items() if k in own and k not in reshaped}
    model.load_state_dict(fitting, strict=False)
    adapted = sorted([*missing, *reshaped])
    if adapted:
        warnings.warn(
            f"re-initialised (not loaded): {adapted}; ignored: {unexpected}", stacklevel=3
        )
    return adapted


def from_pretrained(directory: str | Path, strict: bool = True, **overrides: Any) -> nn.Module:
    """Rebuild a model from a directory written by `save_pretrained` (or shipped weights)."""
    directory = Path(directory)
    config = _override(_read_json(directory / CONFIG)["model"], overrides)
    state = load_weights(directory)
    model = build_model(config)
    load_state(model, state, strict=strict)
    return model.eval()


def load_pretrained(
    module: nn.Module, source: str | Path, prefix: str = "", strict: bool = True
) -> nn.Module:
    """Load the weights under `prefix` of a pretrained model into `module` (e.g. a pretrained
    backbone into the encoder of a Siamese or multi-task model). `source`: name or directory."""
    directory = Path(source) if Path(source).is_dir() else _model_dir(str(source), pretrained=True)
    state = {
        k.removeprefix(prefix): v
        for k, v in load_weights(directory).items()
        if k.startswith(prefix)
    }
    if not state:
        raise KeyError(f"no weights under prefix {prefix!r} in {directory}")
    load_state(module, state, strict=strict)
    return module


def load_checkpoint(path: str | Path, strict: bool = True) -> nn.Module:
    """The network of a train.py checkpoint (a Lightning .ckpt), rebuilt without Hydra."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    config = (checkpoint.get("zoo") or {}).get("model")
    if config is None:
        raise ValueError(f"{path} has no zoo model config: was it written by train.py?")
    model = build_model(config)
    state = {
        k.removeprefix("net."): v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("net.")
    }
    load_state(model, state, strict=strict)
    return model.eval()


def load_model(source: str | Path) -> nn.Module:
    """A trained network from what a user names: a registry model (its pretrained weights), a
    directory written by `save_pretrained`, or a train.py checkpoint (`.ckpt`)."""
    path = Path(source)
    if path.suffix == ".ckpt":
        return load_checkpoint(path)
    if path.is_dir():
        return from_pretrained(path)
    return create_model(str(source), pretrained=True)
