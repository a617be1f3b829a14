"""Model presets as plain configs: `zoo/conf/model/<arch>.yaml` with its `defaults:` list
applied, the data it describes filled in (`data_spec`), and keyword overrides that reach any
key, inside `_args_` lists too. `zoo.create_model` builds from these.

Why not Hydra's compose API here: `import zoo` + `create_model` must stay free of Hydra (its
import costs a second, and a test keeps it out), and Hydra's compose needs its global state,
which a user's own `@hydra.main` application already holds. `_compose` applies a defaults list
with omegaconf alone; `tests/test_hub.py` keeps it equal to Hydra's compose for every preset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from zoo.blocks.shapes import shape_spec
from zoo.utils.preprocessing import as_lists

PRESETS = Path(__file__).parents[1] / "conf" / "model"
# keyword arguments of create_model that describe the data (the `data_spec` a preset reads)
SPEC_KEYS = ("input_shape", "in_channels", "in_features", "image_size", "num_outputs")
SPEC_READ = re.compile(
    r"\bdata_spec\.(\w+)"
)  # inside an interpolation: ${oc.select:data_spec.x,..}


def preset_names() -> list[str]:
    """The architectures: stems of `zoo/conf/model/*.yaml`, sorted."""
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def compose_preset(arch: str) -> dict[str, Any]:
    """Preset `arch` as Hydra composes `model=<arch>` (its `defaults:` applied), unresolved."""
    return _compose(PRESETS, arch)


def _compose(directory: Path, option: str) -> dict[str, Any]:
    """A Hydra config file with its `defaults:` list applied, as Hydra would (groups merged
    under their key, `_self_` last unless placed), unresolved, without Hydra."""
    from omegaconf import OmegaConf

    base = PRESETS.parent if option.startswith("/") else directory
    path = base / f"{option.lstrip('/')}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no config {path}")
    # a config file is a mapping (a list would fail at `pop`, as before)
    own = cast(dict[str, Any], OmegaConf.to_container(OmegaConf.load(path), resolve=False))
    defaults = own.pop("defaults", None) or []
    if "_self_" not in defaults:
        defaults = [*defaults, "_self_"]
    parts: list[Any] = []
    for entry in defaults:
        if entry == "_self_":
            parts.append(own)
        elif isinstance(entry, str):  # another config of the same group: inherit from it
            parts.append(_compose(path.parent, entry))
        else:
            for group, choice in entry.items():
                group = group.removeprefix("optional ").strip()
                group, _, package = group.partition("@")
                if choice is None:
                    continue
                base = PRESETS.parent if group.startswith("/") else path.parent
                group = group.lstrip("/")
                node = _compose(base / group, str(choice))
                parts.append(_nest(package or group.replace("/", "."), node))
    return cast(dict[str, Any], OmegaConf.to_container(OmegaConf.merge(*parts), resolve=False))


def _nest(package: str, node: Any) -> dict[str, Any]:
    for key in reversed(package.split(".")):
        node = {key: node}
    return node


def _data_spec(kwargs: dict[str, Any], preset: Mapping[str, Any]) -> dict[str, Any]:
    """Move the keyword arguments that describe the data into a `data_spec` the preset reads
    (`${oc.select:data_spec.input_shape,...}`); those it does not read stay config overrides."""
    reads = set(SPEC_KEYS) & set(spec_reads(preset))
    spec: dict[str, Any] = dict(kwargs.pop("data_spec", None) or {})
    if "problem" in kwargs:
        spec["problem"] = kwargs.pop("problem")
    if "num_classes" in kwargs and "num_outputs" in reads:
        spec["num_outputs"] = kwargs.pop("num_classes")
    if "input_shape" in kwargs and reads & {"input_shape", "in_channels", "in_features"}:
        spec |= shape_spec(kwargs.pop("input_shape"))
    for key in reads & (set(kwargs) - {"input_shape", "num_classes"}):
        spec[key] = kwargs.pop(key)
    return spec


def spec_reads(node: Any) -> Iterator[str]:
    """The `data_spec` keys that the interpolations in a config's values read."""
    if isinstance(node, Mapping):
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            yield from spec_reads(value)
    elif isinstance(node, str) and "${" in node:
        yield from SPEC_READ.findall(node)


def head_for(preset: dict[str, Any], problem: str | None) -> dict[str, Any]:
    """`preset` with the head of `problem` (`model/head/<problem>.yaml`) when its head is one
    of those and answers another problem, as `model/head=<problem>` on the command line does;
    other heads (pair scores, one per task) stay."""
    head = preset.get("head")
    heads = {path.stem: path for path in (PRESETS / "head").glob("*.yaml")}
    if problem not in heads or not isinstance(head, Mapping):
        return preset
    targets = {_compose(PRESETS / "head", name)["_target_"]: name for name in heads}
    if targets.get(head.get("_target_")) in (None, problem):
        return preset
    return {**preset, "head": _compose(PRESETS / "head", str(problem))}


def _inputs(shape: Any) -> list[Any]:
    """One shape per input: [[3, 32, 32], [12]] for two inputs, [[1, 8, 8]] for one."""
    shape = as_lists(shape) or []
    return shape if shape and isinstance(shape[0], list) else [shape]


def _check_inputs(arch: str, preset: dict[str, Any], spec: dict[str, Any]) -> None:
    """The data's input shape gives one shape per input the preset takes."""
    from omegaconf import OmegaConf

    given = spec.get("input_shape")
    if given is None or "input_shape" not in preset:
        return
    root = OmegaConf.create({"input_shape": preset["input_shape"], "data_spec": {}})
    own = cast(dict[str, Any], OmegaConf.to_container(root, resolve=True))["input_shape"]
    if own is not None and len(_inputs(own)) != len(_inputs(given)):
        n = len(_inputs(own))
        raise ValueError(
            f"input_shape={as_lists(given)}: {arch} takes {n} input{'s' * (n > 1)} (input_shape "
            f"{own}); expected one shape per input"
        )


def preset_config(arch: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The resolved config of preset `arch` with `overrides` (data-describing ones into
    `data_spec`, the others applied before interpolations are resolved); a `problem` in the
    data's spec picks the head that answers it (`head_for`)."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    preset = compose_preset(arch)
    overrides = dict(overrides)
    spec = _data_spec(overrides, preset)
    _check_inputs(arch, preset, spec)
    preset = head_for(preset, spec.get("problem"))
    root = OmegaConf.create({"model": override(preset, overrides), "data_spec": spec})
    try:
        return cast(dict[str, Any], OmegaConf.to_container(root.model, resolve=True))
    except OmegaConfBaseException as error:
        raise ValueError(
            f"model preset {arch!r} cannot be resolved outside a training run: {error}; pass the "
            "missing value as a keyword argument"
        ) from error


def _paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key a keyword override may set: dict keys not starting with `_`, at any depth,
    inside `_args_` lists too (list positions are path parts, `backbone._args_.1.dropout`)."""
    found: list[tuple[str, ...]] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if not key.startswith("_"):
                found.append((*prefix, key))
                found += _paths(value, (*prefix, key))
            elif key == "_args_":
                found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, str(i)))
    return found


def _matches(key: str, path: tuple[str, ...]) -> bool:
    """Whether override `key` names `path` or a suffix of it, dotted (`backbone._args_.1.dropout`)
    or with double underscores (`backbone___args___1__dropout`)."""
    return any(key in (".".join(path[-n:]), "__".join(path[-n:])) for n in range(1, len(path) + 1))


def override(config: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `config` with keyword `overrides` set. A key is a dotted path
    (`"backbone._args_.1.dropout"`), the same with `__` for dots (`head__num_classes`), or any
    unique suffix of one (`dropout`, `num_classes`); a whole path wins over suffixes. Lists
    the accepted keys when a key matches none or several."""
    copied: dict[str, Any] = json.loads(json.dumps(config))  # deep copy of plain data
    paths = _paths(copied)
    for key, value in overrides.items():
        full = [p for p in paths if key in (".".join(p), "__".join(p))]
        matches = full or [p for p in paths if _matches(key, p)]
        if len(matches) != 1:
            keys = sorted(".".join(p) for p in paths)
            why = (
                f"matches several keys {sorted('.'.join(p) for p in matches)}"
                if matches
                else "matches no key"
            )
            raise TypeError(f"override {key}={value!r} {why}; the model's keys are {keys}")
        *parents, last = matches[0]
        node: Any = copied
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
    return copied
