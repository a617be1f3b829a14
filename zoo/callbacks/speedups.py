"""Speed-ups that keep the math: the channels_last memory format for conv nets and
`torch.compile`, applied to a task's network when a fit or a test starts.

Set from the trainer config (`trainer.channels_last`, `trainer.compile`; `trainer=gpu` turns
channels_last on), so a model config never changes for the hardware it runs on.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as L
import torch
from torch import nn


def has_conv2d(net: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in net.modules())


class Speedups(L.Callback):
    """`channels_last`: store a conv net's weights as NHWC, the layout tensor cores read
    without a transpose (PyTorch's channels_last tutorial; a no-op for nets without Conv2d).
    `compile`: `True` or keyword arguments of `torch.compile` (`{"mode": "max-autotune"}`);
    the net is compiled in place (`nn.Module.compile`), so its checkpoints keep their keys."""

    def __init__(self, channels_last: bool = False, compile: bool | dict[str, Any] = False) -> None:
        self.channels_last, self.compile = channels_last, compile

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        net = getattr(pl_module, "net", pl_module)
        if self.channels_last and has_conv2d(net):
            net.to(memory_format=torch.channels_last)
        if self.compile and not getattr(net, "_compiled_call_impl", None):
            net.compile(**(self.compile if isinstance(self.compile, dict) else {}))
