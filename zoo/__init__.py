"""zoo: the classic deep-learning design patterns as reusable PyTorch blocks and models.

`import zoo` imports nothing heavy; `zoo.blocks`, `zoo.patterns` and the hub functions below
import torch alone when first used. Training (lightning, hydra, torchmetrics) and data
(torchvision, scikit-learn) are imported only by the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
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


def __getattr__(name: str) -> Any:
    """Import `zoo.blocks`, `zoo.patterns` and the hub's functions on first use (PEP 562)."""
    if name in ("blocks", "patterns"):
        return importlib.import_module(f"zoo.{name}")
    if name in __all__:
        return getattr(importlib.import_module("zoo.registry"), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
