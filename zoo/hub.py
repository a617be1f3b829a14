"""Deprecated: `zoo.hub` became the package `zoo.registry` (names, files, loading, presets);
the top-level `zoo.create_model`, `zoo.from_pretrained`, ... are unchanged."""

from __future__ import annotations

import warnings
from typing import Any


def __getattr__(name: str) -> Any:
    """`zoo.hub.X` is `zoo.registry.X`, with a DeprecationWarning naming the new place."""
    import zoo.registry

    value = getattr(zoo.registry, name)  # an AttributeError for names the registry lacks
    warnings.warn(
        f"zoo.hub.{name} is deprecated: use zoo.registry.{name} (or zoo.{name})",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
