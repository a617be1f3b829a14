"""The shipped weights a run loads by name (a distillation's teacher, a GAN's judge): a card
records their sha256 as `depends_on`, so replacing a teacher shows every card it taught as
stale until that card is trained again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from zoo.registry.names import OLD_NAMES, list_pretrained, model_card

LOADER = "zoo.load_model"
"""The `_target_` through which a config loads weights (`source`: a name, a folder or a .ckpt)."""


def depends_on(config: Any) -> dict[str, str]:
    """{name: weights sha256} of every shipped card that `config` (a `_target_` tree, such as
    a card's `task`) loads by name, as shipped now."""
    found: dict[str, str] = {}

    def visit(node: Any) -> None:
        if isinstance(node, Mapping):
            source = node.get("source")
            if node.get("_target_") == LOADER and _names_weights(source):
                card = model_card(source)
                found[card["name"]] = card["sha256"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list | tuple):
            for value in node:
                visit(value)

    visit(config)
    return dict(sorted(found.items()))


def _names_weights(source: Any) -> TypeGuard[str]:
    """Whether a loader's `source` is the name of shipped weights (not a folder or a file)."""
    return isinstance(source, str) and (source in list_pretrained() or source in OLD_NAMES)


def stale_dependencies(card: Mapping[str, Any]) -> list[str]:
    """What in `card` no longer matches the shipped weights it was trained or scored with, one
    line each (empty when its `depends_on` is current)."""
    recorded, current = card.get("depends_on", {}), depends_on(card.get("task", {}))
    return [
        f"{card['name']} was made with {name} {recorded.get(name, 'unrecorded')[:12]}, "
        f"the shipped {name} is {current.get(name, 'gone')[:12]}: retrain it "
        f"(zoo-reproduce {card['name']} --record-spread --replace-shipped)"
        for name in sorted(set(recorded) | set(current))
        if recorded.get(name) != current.get(name)
    ]
