"""Adversarial training (Goodfellow et al. 2015; Madry et al. 2018): every batch is trained on
clean and on adversarial inputs, half each, the adversarial ones made by PGD against the
current weights."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

from zoo.analysis.attacks import fgsm, pgd
from zoo.tasks.supervised import SupervisedTask
from zoo.utils.builder import register
from zoo.utils.preprocessing import input_range

if TYPE_CHECKING:
    from zoo.tasks.base import CarriesRecord


@register("task")
class AdversarialTrainingTask(SupervisedTask):
    """`SupervisedTask` whose training batches are doubled with their PGD perturbations of
    L-inf radius `epsilon` (pixel units: a fraction of the intensity range); `steps=1` is FGSM.
    The valid input range comes from the preprocessing record of the data (`net.pretrained_cfg`,
    set when training starts; `zoo.utils.preprocessing.input_range`). The test split is also scored
    under that attack: `test/robust_acc`."""

    logged = ("test/robust_acc",)

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
        datamodule = cast(Any, self.trainer).datamodule  # Lightning sets it, untyped
        if not hasattr(datamodule, "preprocessing_record"):
            raise ValueError(
                "AdversarialTrainingTask needs data whose preprocessing record gives the valid "
                f"input range (an InMemoryDataModule), got {type(datamodule).__name__}"
            )
        super().on_fit_start()  # the net now carries its data's preprocessing record
        low, high = input_range(cast("CarriesRecord", self.net).pretrained_cfg)
        self.bounds = (low.to(self.device), high.to(self.device))

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Adversarial versions of x against the current weights (batch norm in eval mode)."""
        if self.bounds is None:  # a test without a fit: the range from the net's own record
            low, high = input_range(cast("CarriesRecord", self.net).pretrained_cfg)
            self.bounds = (low.to(x.device), high.to(x.device))
        low, high = self.bounds
        was_training = self.net.training
        self.net.eval()
        # Lightning tests under inference mode, where no gradient flows: leave it for the attack
        with torch.inference_mode(False), torch.enable_grad():
            x, y = x.clone(), y.clone()  # tensors made in inference mode cannot enter autograd
            if self.steps == 1:
                adversarial = fgsm(self.net, x, y, self.epsilon, low, high)
            else:
                adversarial = pgd(self.net, x, y, self.epsilon, low, high, self.steps)
        self.net.train(was_training)
        return adversarial

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        if stage == "test":  # and the accuracy under the attack it was trained against
            x, y = batch
            robust = self.head.predict(self.net(self.perturb(x, y))) == y
            self.log("test/robust_acc", robust.float().mean(), batch_size=len(y))
        if stage != "train":
            return super()._step(batch, stage)
        x, y = batch
        return super()._step((torch.cat([x, self.perturb(x, y)]), torch.cat([y, y])), stage)
