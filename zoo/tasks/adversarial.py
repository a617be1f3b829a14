"""Adversarial training (Goodfellow et al. 2015; Madry et al. 2018): every batch is trained on
clean and on adversarial inputs, half each, the adversarial ones made by PGD against the
current weights."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.analysis.attacks import fgsm, pgd
from zoo.tasks.supervised import SupervisedTask


class AdversarialTrainingTask(SupervisedTask):
    """`SupervisedTask` whose training batches are doubled with their PGD perturbations of
    L-inf radius `epsilon` (pixel units: a fraction of the intensity range); `steps=1` is FGSM.
    Needs data that says its valid input range (`InMemoryDataModule.input_range`)."""

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
        super().on_fit_start()
        input_range = getattr(self.trainer.datamodule, "input_range", None)
        if input_range is None:
            raise ValueError(
                "AdversarialTrainingTask needs data with an input_range() (an "
                f"InMemoryDataModule), got {type(self.trainer.datamodule).__name__}"
            )
        self.bounds = tuple(b.to(self.device) for b in input_range())

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
