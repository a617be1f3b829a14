"""zoo: the classic deep-learning design patterns as reusable PyTorch blocks and models.

`import zoo` costs torch alone; training (lightning, hydra, torchmetrics) and data
(torchvision, scikit-learn) are imported only by the functions that need them.
"""

from zoo import blocks, patterns
from zoo.hub import (
    create_model,
    from_pretrained,
    list_models,
    load_checkpoint,
    load_model,
    load_pretrained,
    model_card,
    save_pretrained,
)

__version__ = "0.1.0"
__all__ = [
    "blocks",
    "create_model",
    "from_pretrained",
    "list_models",
    "load_checkpoint",
    "load_model",
    "load_pretrained",
    "model_card",
    "patterns",
    "save_pretrained",
]
