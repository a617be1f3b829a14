"""Adversarial training (Goodfellow et al. 2015; Madry et al. 2018): every batch is trained on
clean and on adversarial inputs, half each, the adversarial ones made by PGD against the
current weights."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.analysis.attacks import fgsm, pgd
from zoo.preprocessing import input_range
from zoo.tasks.supervised import SupervisedTask


class AdversarialTrainingTask(SupervisedTask):
    """`SupervisedTask` whose training batches are doubled with their PGD perturbations of
    L-inf radius `epsilon` (pixel units: a fraction of the intensity range); `steps=1` is FGSM.
    The valid input range comes from the preprocessing record of the data (`net.pretrained_cfg`,
    set when training starts; `zoo.preprocessing.input_range`)."""

    def __init__(
        self, net: nn.Module, *, epsilon: float = 0.1, steps: int = 5, **kwargs: Any
    ) -> None:
        super().__init__(net, **kwargs)
        if not 0 < epsilon < 1:
            raise ValueError(f"task.epsilon must lie in (0, 1) of the pixel range, got {epsilon}")
        if steps < 1:
            raise ValueError(f"task.steps must be a positive number of PGD steps, got {steps}")
        self.epsilon, self.steps = epsilon, steps
        self.bounds: tuple[torch.Tensor, torch.Tensor] | None = None

    def on_fit_start(self) -> None:
        datamodule = self.trainer.datamodule
        if not hasattr(datamodule, "preprocessing_record"):
            raise ValueError(
                "AdversarialTrainingTask needs data whose preprocessing record gives the valid "
                f"input range (an InMemoryDataModule), got {type(datamodule).__name__}"
            )
        super().on_fit_start()  # the net now carries its data's preprocessing record
        self.bounds = tuple(b.to(self.device) for b in input_range(self.net.pretrained_cfg))

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Adversarial versions of x against the current weights (batch norm in eval mode)."""
        low, high = self.bounds
        self.net.eval()
        with torch.enable_grad():
            if self.steps == 1:
                adversarial = fgsm(self.net, x, y, self.epsilon, low, high)
            else:
                adversarial = pgd(self.net, x, y, self.epsilon, low, high, self.steps)
        self.net.train()
        return adversarial

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        if stage != "train":
            return super()._step(batch, stage)
        x, y = batch
        return super()._step((torch.cat([x, self.perturb(x, y)]), torch.cat([y, y])), stage)
