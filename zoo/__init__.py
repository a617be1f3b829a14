"""zoo: the classic deep-learning design patterns as reusable PyTorch blocks and models.

`import zoo` imports nothing heavy; `zoo.blocks`, `zoo.patterns`, the registry's functions and
`PretrainedRecord` (the preprocessing record a model carries) below import torch alone when
first used. Training (lightning, hydra, torchmetrics) and data (torchvision, scikit-learn) are
imported only by the functions that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.2.0"  # the one place the version is written (pyproject.toml reads it)

__all__ = [
    "PretrainedRecord",
    "blocks",
    "create_model",
    "from_pretrained",
    "get_pretrained_cfg",
    "list_models",
    "list_pretrained",
    "load_checkpoint",
    "load_model",
    "load_pretrained",
    "model_card",
    "patterns",
    "register",
    "save_pretrained",
]

if TYPE_CHECKING:
    from zoo import blocks, patterns
    from zoo.registry import (
        create_model,
        from_pretrained,
        get_pretrained_cfg,
        list_models,
        list_pretrained,
        load_checkpoint,
        load_model,
        load_pretrained,
        model_card,
        save_pretrained,
    )
    from zoo.utils.builder import register
    from zoo.utils.preprocessing import PretrainedRecord


def __getattr__(name: str) -> object:
    """Import `zoo.blocks`, `zoo.patterns`, the registry's functions, `register` and
    `PretrainedRecord` on first use (PEP 562)."""
    import importlib

    if name in ("blocks", "patterns"):
        return importlib.import_module(f"zoo.{name}")
    if name == "register":
        return importlib.import_module("zoo.utils.builder").register
    if name == "PretrainedRecord":
        return importlib.import_module("zoo.utils.preprocessing").PretrainedRecord
    if name in __all__:
        return getattr(importlib.import_module("zoo.registry"), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API, and nothing the module uses to provide it."""
    return sorted([*__all__, "__version__"])
