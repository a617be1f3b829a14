"""Build a module from a plain config dict, the way Hydra's `instantiate` does, without Hydra.

Understands `_target_`, `_args_` and `_partial_`, nested at any depth. Only callables under the
allowed module prefixes can be named, so a config read from a file cannot run arbitrary code.
"""

from __future__ import annotations

import copy
import functools
import importlib
from collections.abc import Mapping
from typing import Any

from zoo.initialization import initialize
from zoo.preprocessing import default_record

ALLOWED_PREFIXES = ("zoo.", "torch.nn.")


def locate(target: str, allowed: tuple[str, ...] = ALLOWED_PREFIXES) -> Any:
    """The callable named by a dotted path `target`, if it lies under one of the `allowed`
    module prefixes; a ValueError otherwise."""
    if not target.startswith(allowed):
        package = target.partition(".")[0]
        raise ValueError(
            f"_target_={target!r}: expected a callable under one of {list(allowed)}; if you "
            f"trust its package, allow it explicitly: allowed=({package + '.'!r},)"
        )
    module_name, _, attr = target.rpartition(".")
    while module_name:
        try:
            obj: Any = importlib.import_module(module_name)
            break
        except ModuleNotFoundError:
            module_name, _, parent = module_name.rpartition(".")
            attr = f"{parent}.{attr}"
    else:
        raise ValueError(f"_target_={target!r}: no such module")
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"_target_={target!r}: {module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def build(config: Any, allowed: tuple[str, ...] = ALLOWED_PREFIXES) -> Any:
    """Recursively call every `_target_` in `config` (dicts, lists, values); returns the
    built object, other values as they are."""
    if isinstance(config, list | tuple):
        return [build(item, allowed) for item in config]
    if not isinstance(config, Mapping):
        return config
    kwargs = {k: build(v, allowed) for k, v in config.items() if not k.startswith("_")}
    if "_target_" not in config:
        return kwargs
    target = locate(config["_target_"], allowed)
    args = build(config.get("_args_", []), allowed)
    if config.get("_partial_", False):
        return functools.partial(target, *args, **kwargs)
    return target(*args, **kwargs)


STARTS = ("init", "init_from")
"""Model config keys that say how the weights start, not what the architecture is."""


def build_model(config: Mapping[str, Any], allowed: tuple[str, ...] = ALLOWED_PREFIXES) -> Any:
    """Build a model from `config` and return it carrying the config that built it
    (`model.zoo_config`, so its weights can always be saved with their architecture) and a
    default preprocessing record (`model.pretrained_cfg`, see `default_record`). `init` names
    how weights are drawn (`zoo.initialization`); `init_from` (pretrained weights for a part)
    is kept in the config and applied by `zoo.hub.start_from`, which can read the registry."""
    config = dict(config)
    if config.get("init", "default") == "default":
        config.pop("init", None)  # as built: configs saved before `init` existed stay equal
    if not config.get("init_from"):
        config.pop("init_from", None)
    model = build({k: v for k, v in config.items() if k not in STARTS}, allowed)
    initialize(model, config.get("init", "default"))
    model.zoo_config = copy.deepcopy(config)
    model.pretrained_cfg = default_record(model, config)
    return model
