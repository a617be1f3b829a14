"""Build objects from plain config dicts (`_target_`, `_args_`, `_partial_`, nested at any
depth), the way Hydra's `instantiate` does, but only from a registered set of targets.

A config read from a file (a model directory, a card, a checkpoint) is data: it can name the
architectures, heads and layers registered here (`@register`, the idea of timm's
`register_model`), `torch.nn`'s layer classes, and the few factories configs use. It never
reaches a function with effects, and no module attribute is walked from a name. A caller who
trusts their own package can allow it by prefix (`allowed=("mypkg.",)`).
"""

from __future__ import annotations

import copy
import functools
import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

T = TypeVar("T")

KINDS = ("model", "data", "task")
"""What a registered target builds: a network or a part of one, a data module, a task."""
_PROVIDERS = {
    "model": ("zoo.blocks", "zoo.patterns"),
    "data": ("zoo.data",),
    "task": ("zoo.tasks",),
}
"""The packages whose import registers each kind (imported on first use: data and tasks import
Lightning)."""
_REGISTERED: dict[str, dict[str, Callable[..., Any]]] = {kind: {} for kind in KINDS}
CONFIG_KEYS = ("_target_", "_args_", "_partial_")
EVERY_PACKAGE = ("",)
"""`allowed=EVERY_PACKAGE`: any public callable, as Hydra's `instantiate` allows. Only for a
config the user wrote themselves (a training run's command line and config folders), never for
one read from a file."""


class UnsafeConfigError(ValueError):
    """A config that names something it may not build, or says it in a malformed way."""


def register(kind: str = "model", name: str | None = None) -> Callable[[T], T]:
    """Class decorator: configs may build this `kind` of object by its dotted name, its
    defining module's (`zoo.blocks.mlp.MLP`) or its package's (`zoo.blocks.MLP`); `name`
    replaces both (a factory re-exported elsewhere: `zoo.load_model`)."""
    if kind not in KINDS:
        raise ValueError(f"register(kind={kind!r}): expected one of {KINDS}")

    def add(obj: T) -> T:
        names = [name] if name else _dotted_names(obj)
        for dotted in names:
            _REGISTERED[kind][dotted] = obj  # type: ignore[assignment]
        return obj

    return add


def _dotted_names(obj: Any) -> list[str]:
    """`zoo.blocks.mlp.MLP` and the name in the package above its module, `zoo.blocks.MLP`:
    the spellings a config may use."""
    parts = obj.__module__.split(".")
    depths = range(len(parts), max(len(parts) - 2, 0), -1)  # its module, and the package above
    return [".".join([*parts[:n], obj.__qualname__]) for n in depths]


@functools.cache
def _torch_layers() -> dict[str, Callable[..., Any]]:
    """`torch.nn.<Layer>` for every layer class torch.nn exports (`torch.nn.Linear`,
    `torch.nn.Sequential`, ...): classes from `torch.nn.modules`, no functions."""
    from torch import nn

    return {
        f"torch.nn.{name}": obj
        for name, obj in vars(nn).items()
        if isinstance(obj, type)
        and issubclass(obj, nn.Module)
        and obj.__module__.startswith("torch.nn.modules.")
    }


def registered(kinds: tuple[str, ...] = ("model",)) -> dict[str, Callable[..., Any]]:
    """Every target a config may name for these `kinds`, by dotted name."""
    found: dict[str, Callable[..., Any]] = {}
    for kind in kinds:
        for package in _PROVIDERS[kind]:
            importlib.import_module(package)  # its modules register what they define
        found |= _REGISTERED[kind]
    if "model" in kinds:
        found |= _torch_layers()
    return found


def _trusted(target: str, allowed: tuple[str, ...], where: str) -> Any:
    """The callable `target` under a package prefix the caller trusts."""
    module_name, _, attr = target.rpartition(".")
    if any(part.startswith("_") for part in target.split(".")):
        raise UnsafeConfigError(
            f"{where}._target_={target!r}: private and dunder names are refused"
        )
    while module_name:
        try:
            obj: Any = importlib.import_module(module_name)
            break
        except ModuleNotFoundError:
            module_name, _, parent = module_name.rpartition(".")
            attr = f"{parent}.{attr}"
    else:
        raise UnsafeConfigError(f"{where}._target_={target!r}: no such module")
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UnsafeConfigError(f"{where}._target_={target!r}: {module_name} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def locate(
    target: Any,
    kinds: tuple[str, ...] = ("model",),
    allowed: tuple[str, ...] = (),
    where: str = "config",
) -> Any:
    """The callable a config names: a registered target of `kinds`, or one under a package
    prefix in `allowed`; an `UnsafeConfigError` naming the key `where` otherwise."""
    if not isinstance(target, str):
        raise UnsafeConfigError(
            f"{where}._target_={target!r}: expected a dotted name (a string), got a "
            f"{type(target).__name__}"
        )
    found = registered(kinds).get(target)
    if found is not None:
        return found
    if allowed and target.startswith(tuple(allowed)):
        return _trusted(target, allowed, where)
    package = target.partition(".")[0]
    hint = (
        ""
        if package in ("zoo", "torch")
        else f"; if it is your own class, trust its package: allowed=({package + '.'!r},)"
    )
    raise UnsafeConfigError(
        f"{where}._target_={target!r}: not a registered {' or '.join(kinds)} "
        f"(zoo.utils.builder.registered() lists what a config may build){hint}"
    )


def build(
    config: Any,
    kinds: tuple[str, ...] = ("model",),
    allowed: tuple[str, ...] = (),
    where: str = "config",
    **built: Any,
) -> Any:
    """Recursively call every `_target_` in `config` (dicts, lists, values) that `locate`
    admits; returns the built object, other values as they are. Every target is checked
    before anything is called, so a refused config runs nothing. `built` are keyword arguments
    of the outermost call that are objects already (a task's network, a trainer's callbacks)."""
    check(config, kinds, allowed, where)
    if built and not (isinstance(config, Mapping) and "_target_" in config):
        raise TypeError(f"{where}: keyword arguments {sorted(built)} need a config with a _target_")
    return _build(config, kinds, allowed, built)


def check(
    config: Any,
    kinds: tuple[str, ...] = ("model",),
    allowed: tuple[str, ...] = (),
    where: str = "config",
) -> None:
    """Refuse, naming the key, any target `locate` does not admit and any malformed
    `_args_` (not a list), `_partial_` (not a bool) or other `_key_`, anywhere in `config`."""
    if isinstance(config, list | tuple):
        for i, item in enumerate(config):
            check(item, kinds, allowed, f"{where}.{i}")
        return
    if not isinstance(config, Mapping):
        return
    for key, value in config.items():
        if not isinstance(key, str):
            raise UnsafeConfigError(f"{where}: key {key!r} is not a string")
        if key.startswith("_") and key not in CONFIG_KEYS:
            raise UnsafeConfigError(f"{where}.{key}: expected one of {CONFIG_KEYS} or a plain key")
        if key != "_target_":
            check(value, kinds, allowed, f"{where}.{key}")
    if "_target_" not in config:
        if "_args_" in config or "_partial_" in config:
            raise UnsafeConfigError(f"{where}: _args_ or _partial_ without a _target_")
        return
    target = config["_target_"]
    if not isinstance(config.get("_args_", []), list | tuple):
        raise UnsafeConfigError(
            f"{where}._args_={config['_args_']!r} (for {target!r}): expected a list"
        )
    if not isinstance(config.get("_partial_", False), bool):
        raise UnsafeConfigError(
            f"{where}._partial_={config['_partial_']!r} (for {target!r}): expected true or false"
        )
    locate(target, kinds, allowed, where)


def _build(
    config: Any,
    kinds: tuple[str, ...],
    allowed: tuple[str, ...],
    built: Mapping[str, Any] | None = None,
) -> Any:
    if isinstance(config, list | tuple):
        return [_build(item, kinds, allowed) for item in config]
    if not isinstance(config, Mapping):
        return config
    kwargs = {k: _build(v, kinds, allowed) for k, v in config.items() if not k.startswith("_")}
    kwargs |= built or {}
    if "_target_" not in config:
        return kwargs
    target = locate(config["_target_"], kinds, allowed)
    args = _build(config.get("_args_", []), kinds, allowed)
    if config.get("_partial_", False):
        return functools.partial(target, *args, **kwargs)
    return target(*args, **kwargs)


STARTS = ("init", "init_from")
"""Model config keys that say how the weights start, not what the architecture is."""


def build_model(
    config: Mapping[str, Any], allowed: tuple[str, ...] = (), where: str = "model"
) -> Any:
    """Build a model from `config` and return it carrying the config that built it
    (`model.zoo_config`, so its weights can always be saved with their architecture) and a
    default preprocessing record (`model.pretrained_cfg`, see `default_record`). `init` names
    how weights are drawn (`zoo.utils.initialization`); `init_from` (pretrained weights for a part)
    is kept in the config and applied by `zoo.registry.start_from`, which can read the registry."""
    from torch import nn

    from zoo.utils.initialization import initialize
    from zoo.utils.preprocessing import default_record

    config = dict(config)
    if config.get("init", "default") == "default":
        config.pop("init", None)  # as built: configs saved before `init` existed stay equal
    if not config.get("init_from"):
        config.pop("init_from", None)
    model = build({k: v for k, v in config.items() if k not in STARTS}, ("model",), allowed, where)
    if not isinstance(model, nn.Module):
        raise UnsafeConfigError(
            f"{where}: builds a {type(model).__name__}, expected a network (an nn.Module)"
        )
    initialize(model, config.get("init", "default"))
    # plain attributes, which nn.Module does not declare (its `__getattr__` types only its own)
    cast(Any, model).zoo_config = copy.deepcopy(config)
    cast(Any, model).pretrained_cfg = default_record(model, config)
    return model
