"""Learn to reconstruct the input: autoencoders and denoising autoencoders."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.analysis.baselines import PCA, squared_error_per_sample
from zoo.blocks.noise import corrupt
from zoo.tasks.base import ZooTask
from zoo.utils.builder import register


@register("task")
class ReconstructionTask(ZooTask):
    """Minimise the squared error between `net(x)` and x, summed over each sample's values.

    Batches are `(x, *ignored)` (labels are not used). With `eval_corruption`, validation and
    test feed the net a corrupted x (a fixed draw per batch) and score the clean x: the
    denoising error. Logged: `stage/loss` (squared error per sample), and `test/pca_loss`, the
    error of PCA with as many components as the net's code has, fitted on the training split
    and fed the same inputs: the linear baseline an autoencoder is read against.
    """

    logged = ("test/pca_loss",)

    produces = "reconstruction"

    def __init__(
        self,
        net: nn.Module,
        *,
        eval_corruption: str | None = None,
        eval_noise_level: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, **kwargs)
        self.eval_corruption, self.eval_noise_level = eval_corruption, eval_noise_level
        self.pca: PCA | None = None

    @torch.no_grad()
    def on_test_epoch_start(self) -> None:
        datamodule: Any = getattr(self.trainer, "datamodule", None)
        encoder = getattr(self.net, "encoder", None)
        if encoder is None or not hasattr(datamodule, "training_tensors"):
            return
        x = datamodule.training_tensors()[0]
        self.pca = PCA(encoder(x[:1])[0].numel()).fit(x)

    def _inputs(self, x: torch.Tensor, stage: str, batch_idx: int) -> torch.Tensor:
        if stage == "train" or self.eval_corruption is None:
            return x
        generator = torch.Generator(device=x.device).manual_seed(batch_idx)
        return corrupt(x, self.eval_corruption, self.eval_noise_level, generator)

    def _step(
        self, batch: tuple[torch.Tensor, ...], stage: str, batch_idx: int = 0
    ) -> torch.Tensor:
        x = batch[0]
        inputs = self._inputs(x, stage, batch_idx)
        loss = squared_error_per_sample(self.net(inputs), x)
        self.log_loss(stage, loss, len(x))
        if stage == "test" and self.pca is not None:
            pca_loss = squared_error_per_sample(self.pca.reconstruct(inputs), x)
            self.log("test/pca_loss", pca_loss, batch_size=len(x))
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        self._step(batch, "val", batch_idx)

    def test_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> None:
        self._step(batch, "test", batch_idx)
