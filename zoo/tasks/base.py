"""What every zoo task shares: the network and the record that makes its checkpoints portable."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as L
from torch import nn


class ZooTask(L.LightningModule):
    """A LightningModule around `net` whose checkpoints carry the net's config.

    `checkpoint["zoo"]` holds the model config (`net.zoo_config`), the whole run config and the
    command that produced it, so `zoo.load_checkpoint` rebuilds the net without Hydra and
    `zoo.publish` can evaluate and document it.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.run_config: dict[str, Any] | None = None
        self.command: str | None = None

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {
            "model": getattr(self.net, "zoo_config", None),
            "run": self.run_config,
            "command": self.command,
        }
