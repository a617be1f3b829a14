"""Maximise the evidence lower bound of a variational autoencoder."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch

from zoo.tasks.base import ZooTask
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Protocol

    class ELBOModel(Protocol):
        """What VAETask needs of its net (zoo.patterns.VAE)."""

        def elbo(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...


@register("task")
class VAETask(ZooTask):
    """Loss = -ELBO in nats per sample (`stage/loss`); also logs `stage/kl` and
    `stage/reconstruction` (-log p(x|z)). Batches are `(x, *ignored)`."""

    logged = ("{stage}/kl", "{stage}/reconstruction")

    produces = "generation"

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x = batch[0]
        elbo, reconstruction, kl = cast("ELBOModel", self.net).elbo(x)
        loss = -elbo.mean()
        self.log_loss(stage, loss, len(x))
        if stage != "train":
            parts = {f"{stage}/kl": kl.mean(), f"{stage}/reconstruction": -reconstruction.mean()}
            self.log_epoch(parts, len(x))
        return loss
