"""Names of architectures and weights, after timm's `arch.tag` scheme: an architecture is a
model preset (`zoo/conf/model/<arch>.yaml`), weights are `<arch>.<tag>` folders under
`zoo/registry/weights/`; the experiment that trained them is accepted as their old name."""

from __future__ import annotations

import difflib
import fnmatch
import warnings
from pathlib import Path
from typing import Any

from zoo.registry.files import WEIGHTS, read_card
from zoo.training.presets import preset_names

REGISTRY = Path(__file__).parent / "weights"


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
        experiment = read_card(REGISTRY / name).get("experiment")
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
        warnings.warn(
            f"{name!r} names the experiment that trained the weights {experiments[name]!r}; "
            "name the weights instead (the experiment's name is deprecated here)",
            DeprecationWarning,
            stacklevel=3,
        )
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


def model_card(name: str) -> dict[str, Any]:
    """The card of weights named `name` (see `weights_name`): dataset, split, test metrics,
    parameters, command, sha256, ..."""
    return read_card(_weights_dir(name))
