"""Maximum likelihood for density models (autoregressive or not) of the inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
from torch import nn

from zoo.tasks.base import ZooTask
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Protocol

    class DensityModel(Protocol):
        """What LikelihoodTask needs of its net."""

        def log_likelihood(self, x: torch.Tensor) -> torch.Tensor: ...


@register("task")
class LikelihoodTask(ZooTask):
    """Minimises -log p(x) of `net.log_likelihood(x)`, in nats per image: `stage/loss` is the
    negative log-likelihood (`test/loss` on held-out images). Batches are `(x, *ignored)`."""

    produces = "density"

    @classmethod
    def check_net(cls, net: nn.Module) -> None:
        if not callable(getattr(net, "log_likelihood", None)):
            raise TypeError(
                "LikelihoodTask needs a net with log_likelihood(x) (e.g. PixelCNN, "
                f"IndependentPixels), got {type(net).__name__}"
            )

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x = batch[0]
        loss = -cast("DensityModel", self.net).log_likelihood(x).mean()
        self.log_loss(stage, loss, len(x))
        return loss
