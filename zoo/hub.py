"""Architectures by name, trained weights by name, and the round trip of a model to a directory.

Names follow timm's `arch.tag` scheme:

- an *architecture* is a model preset, `zoo/conf/model/<arch>.yaml` (`cnn`, `mlp`, `unet`, ...);
  `list_models()` lists them and `create_model(arch, **kwargs)` builds one, freshly initialised;
- *weights* are named `<arch>.<tag>`, the tag saying what they learned (`cnn.digits`,
  `siamese_cnn.glyphs_triplet`); `list_pretrained()` lists them, `create_model(name,
  pretrained=True)` loads them. The name of the experiment that trained them (`cnn_digits`,
  on each card as `"experiment"`) is accepted wherever a weights name is.

A model directory (shipped under `zoo/registry/<arch>.<tag>/` or written by `save_pretrained`)
holds `config.json` (the config that builds the model and its preprocessing record),
`model.safetensors` and `card.json` (dataset, split, test metrics, parameter count, command,
sha256 of the weights and of the config). A directory loads only after both files match their
sha256 on the card; the config is data (`zoo.builder`: registered architectures only), built
first on the meta device and compared with the weights file's header before any memory is
allocated; nothing is unpickled. Every model built or loaded here carries `model.pretrained_cfg`, the preprocessing
record of `zoo.preprocessing` (plus `"card"` for loaded weights).
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.atomic import atomic_path, write_text_atomic
from zoo.builder import build_model, register
from zoo.preprocessing import default_record
from zoo.presets import override, preset_config, preset_names
from zoo.safe_files import load_checkpoint_file

REGISTRY = Path(__file__).parent / "registry"
CONFIG, WEIGHTS, CARD = "config.json", "model.safetensors", "card.json"


class ChecksumError(RuntimeError):
    """A weight or config file whose sha256 differs from the one on its card."""


MAX_CONFIG_BYTES = 1 << 20
"""A model's config (config.json, or a checkpoint's) is a few kilobytes: a larger one is refused
before it is parsed."""
MAX_NEW_ELEMENTS = 1 << 28
"""What a model read from a file may hold beyond its weights file (layers re-initialised with
`strict=False`, buffers the file does not store): 2^28 numbers, 1 GiB of float32."""


# ---------------------------------------------------------------------------------- names


def list_models(pattern: str = "*", pretrained: bool = False) -> list[str]:
    """Architectures (model presets) whose names match the shell-style `pattern`, sorted; with
    `pretrained=True` the `arch.tag` weights instead, as `list_pretrained(pattern)` (timm's
    behaviour)."""
    if pretrained:
        return list_pretrained(pattern)
    return [name for name in preset_names() if fnmatch.fnmatch(name, pattern)]


def list_pretrained(pattern: str = "*") -> list[str]:
    """Trained weights, named `arch.tag`, matching the shell-style `pattern` (`"cnn.*"`),
    sorted."""
    names = (p.parent.name for p in REGISTRY.glob(f"*/{WEIGHTS}"))
    return sorted(n for n in names if fnmatch.fnmatch(n, pattern))


def _experiments() -> dict[str, str]:
    """Old names: the experiment that trained each set of weights -> the weights' name."""
    found = {}
    for name in list_pretrained():
        experiment = _read_json(REGISTRY / name / CARD).get("experiment")
        if experiment:
            found[experiment] = name
    return found


def _unknown(name: str) -> KeyError:
    known = [*list_models(), *list_pretrained(), *_experiments()]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return KeyError(
        f"unknown model {name!r}{hint} (zoo.list_models() lists the architectures, "
        "zoo.list_pretrained() the trained weights)"
    )


def weights_name(name: str) -> str:
    """The `arch.tag` name of weights named `name`: their own name, the experiment that
    trained them (`cnn_digits`), or an architecture with exactly one set of weights. A
    KeyError says what is known otherwise."""
    if (REGISTRY / name / WEIGHTS).is_file():
        return name
    experiments = _experiments()
    if name in experiments:
        return experiments[name]
    if name in list_models():
        candidates = list_pretrained(f"{name}.*")
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise KeyError(
                f"architecture {name!r} has no pretrained weights (zoo.list_pretrained())"
            )
        raise KeyError(
            f"architecture {name!r} has several pretrained weights, {candidates}: name one "
            f"(zoo.list_pretrained({name + '.*'!r}))"
        )
    raise _unknown(name)


def _weights_dir(name: str) -> Path:
    return REGISTRY / weights_name(name)


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
    try:
        found = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not JSON ({error}); expected a JSON object") from None
    if not isinstance(found, dict):
        raise ValueError(f"{path}: holds a {type(found).__name__}; expected a JSON object")
    return found


def read_config(directory: str | Path) -> dict[str, Any]:
    """The config.json of a model directory, after its sha256 matches the card's
    `config_sha256` (a ChecksumError names the file otherwise): the card covers everything
    that builds the model, its config and preprocessing record as well as its weights."""
    directory = Path(directory)
    expected = read_card(directory).get("config_sha256")
    path = directory / CONFIG
    actual = sha256(path) if path.is_file() else None
    if actual is None:
        raise FileNotFoundError(f"{path} is missing: a model directory needs {CONFIG}")
    if expected != actual:
        said = f"says {expected}" if expected else "holds no config_sha256"
        raise ChecksumError(
            f"{path} has sha256 {actual}, but its card {said}: the config was changed or "
            "never checked; nothing was built (if you trust this config, write its sha256 "
            "into card.json as config_sha256)"
        )
    config = _read_json(path)
    if not isinstance(config.get("model"), dict):
        raise ValueError(f"{path}: holds no model config; expected {{'model': {{...}}}}")
    return config


def model_card(name: str) -> dict[str, Any]:
    """The card of weights named `name` (see `weights_name`): dataset, split, test metrics,
    parameters, command, sha256, ..."""
    return read_card(_weights_dir(name))


def read_card(directory: str | Path) -> dict[str, Any]:
    """The card.json of a model directory, as a dict."""
    return _read_json(Path(directory) / CARD)


def get_pretrained_cfg(name: str) -> dict[str, Any]:
    """The preprocessing record of weights named `name` (`zoo.preprocessing`: input_shape,
    raw_max, mean, std, problem, class_names) with their `card`, read without loading the
    weights. For an architecture: the record a fresh `create_model(name)` carries."""
    if name in list_models():
        return create_model(name).pretrained_cfg
    return _stored_record(_weights_dir(name))


def _stored_record(directory: Path, model: nn.Module | None = None) -> dict[str, Any]:
    """The record saved in a model directory's config.json (or the model's default one), with
    the directory's card."""
    config = read_config(directory)
    record = config.get("pretrained_cfg")
    if record is None:
        record = default_record(model, config["model"]) if model is not None else {}
    card = read_card(directory) if (directory / CARD).exists() else {}
    return {**record, "card": card}


# ------------------------------------------------------------------------------- configs


def model_config(name: str, **overrides: Any) -> dict[str, Any]:
    """The config (a `_target_` tree, resolved) that `create_model(name, **overrides)` builds:
    an architecture's preset or the exact config of weights named `name`."""
    if name in list_models():
        return preset_config(name, overrides)
    config = read_config(_weights_dir(name))["model"]
    return override(config, overrides)


# -------------------------------------------------------------------------------- models


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

    Other keyword arguments override config keys, by dotted path, `__` path or unique suffix:
    `dropout=0.1`, `backbone__hidden=[32]`, `backbone___args___1__dropout=0.1`,
    `**{"backbone._args_.1.dropout": 0.1}`. With pretrained weights, a changed shape fails
    unless `strict=False`, which re-initialises the layers that no longer fit and warns which
    keys it adapted. Returns the model, carrying `zoo_config` and `pretrained_cfg`.
    """
    if name in list_models():
        if pretrained:
            return create_model(weights_name(name), True, strict, **kwargs)
        return start_from(build_model(preset_config(name, kwargs)))
    directory = Path(name) if Path(name).is_dir() else _weights_dir(name)
    if pretrained:
        return from_pretrained(directory, strict=strict, **kwargs)
    config = override(read_config(directory)["model"], kwargs)
    model = _build_to_load(config, weight_shapes(directory), strict, source=directory / CONFIG)
    record = _stored_record(directory, model)
    record.pop("card")
    model.pretrained_cfg = record
    return model


def sha256(path: Path) -> str:
    """The hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def num_params(model: nn.Module) -> int:
    """The number of parameters of `model`."""
    return sum(p.numel() for p in model.parameters())


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
            "zoo.builder.build_model or train.py): pass config=, a `_target_` tree that builds "
            f"it, e.g. save_pretrained(net, dir, config={{'_target_': "
            f"'{type(model).__module__}.{name}', ...}})"
        )
    record = dict(getattr(model, "pretrained_cfg", None) or default_record(model, config))
    card = {**(record.pop("card", None) or {}), **(card or {})}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # Each file is replaced whole, and the card, which holds the weights' sha256, comes last:
    # a kill before it leaves weights that fail their checksum, so nothing half-saved loads.
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS) as weights:
        save_file(state, weights)
        card |= {"num_params": num_params(model), "sha256": sha256(weights)}
    config_text = json.dumps({"model": config, "pretrained_cfg": record}, indent=2) + "\n"
    write_text_atomic(directory / CONFIG, config_text)
    card["config_sha256"] = hashlib.sha256(config_text.encode()).hexdigest()
    write_text_atomic(directory / CARD, json.dumps(card, indent=2) + "\n")
    return directory


def _checked_weights(directory: Path) -> Path:
    """The weights file of a model directory, once its sha256 matches the card."""
    path = directory / WEIGHTS
    expected = read_card(directory).get("sha256")
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: a model directory needs {WEIGHTS}")
    actual = sha256(path)
    if expected != actual:
        raise ChecksumError(
            f"{path} has sha256 {actual}, but its card says {expected}: "
            "the file is damaged or was changed; nothing was loaded"
        )
    return path


def weight_shapes(directory: str | Path) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a model directory's weights, read from the
    safetensors header (checksum first) without loading any tensor."""
    from safetensors import safe_open

    with safe_open(_checked_weights(Path(directory)), "pt") as f:
        return {key: tuple(f.get_slice(key).get_shape()) for key in f.keys()}  # noqa: SIM118


def load_weights(directory: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of a model directory, after its sha256 matches the card (else a
    ChecksumError, and nothing is loaded)."""
    from safetensors.torch import load_file

    return load_file(_checked_weights(Path(directory)))


def load_state(
    model: nn.Module, state: Mapping[str, torch.Tensor], strict: bool = True
) -> list[str]:
    """Copy `state` into `model`. Strict: every key and shape must match, else nothing is
    loaded. Not strict: mismatched or missing entries keep their fresh initialisation;
    returns (and warns about) the keys adapted."""
    own = model.state_dict()
    details = _state_differences(own, state)
    if strict and details:
        raise RuntimeError(
            f"weights do not fit {type(model).__name__} ({'; '.join(details)}); nothing was "
            "loaded. Pass strict=False to re-initialise what does not fit."
        )
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    reshaped = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    fitting = {k: v for k, v in state.items() if k in own and k not in reshaped}
    model.load_state_dict(fitting, strict=False)
    adapted = sorted([*missing, *reshaped])
    if adapted:
        warnings.warn(
            f"re-initialised (not loaded): {adapted}; ignored: {unexpected}", stacklevel=3
        )
    return adapted


def from_pretrained(
    directory: str | Path,
    strict: bool = True,
    allowed: tuple[str, ...] = (),
    **overrides: Any,
) -> nn.Module:
    """The model saved in `directory` (by `save_pretrained`, or shipped), in eval mode, with
    its preprocessing record and card (`model.pretrained_cfg`).

    Its config may name registered architectures only (`zoo.builder`), plus classes under the
    package prefixes the caller trusts (`allowed=("mypkg.",)`). Keyword overrides change the
    config as in `create_model`; `strict` as there."""
    directory = Path(directory)
    config = override(read_config(directory)["model"], overrides)
    shapes = weight_shapes(directory)
    model = _build_to_load(config, shapes, strict, allowed, source=directory / CONFIG)
    load_state(model, load_weights(directory), strict=strict)
    model.pretrained_cfg = _stored_record(directory, model)
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
    model = _build_to_load(config, state, strict, source=Path(path))
    load_state(model, state, strict=strict)
    stored = record.get("pretrained_cfg") or _record_of_run_data(record.get("run"))
    if stored:
        model.pretrained_cfg = dict(stored)
    return model.eval()


def _record_of_run_data(run: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The preprocessing record of a run's data, for checkpoints written before records were
    saved with them (None if the data cannot be built here)."""
    data = (run or {}).get("data")
    if not data:
        return None
    from zoo.builder import build

    try:
        return build(data, kinds=("data",), where="run.data").preprocessing_record()
    except (OSError, RuntimeError, ValueError) as error:
        warnings.warn(
            f"no preprocessing record: the run's data cannot be built ({error})", stacklevel=3
        )
        return None


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
        if not isinstance(v, nn.parameter.UninitializedTensorMixin)  # lazy: shaped by the weights
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
