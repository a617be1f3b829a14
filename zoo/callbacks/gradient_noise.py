"""What a mini-batch size buys: the gradient noise scale B = tr(Σ) / |G|² (McCandlish et al.
2018, "An Empirical Model of Large-Batch Training"), the batch size below which a step is
mostly noise and above which a larger batch barely improves it, and wall-clock time per epoch,
so that runs of different batch sizes can be compared by time as well as by epoch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

import lightning.pytorch as L
import torch
from torch.func import functional_call, grad, vmap

if TYPE_CHECKING:
    from zoo.blocks.heads import Head


def per_sample_gradients(net: torch.nn.Module, split: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """(N, P): the gradient of the head's loss on each sample of `split` alone, flattened, with
    `net` in eval mode (one sample cannot be batch-normalised; dropout is off)."""
    *inputs, y = split
    params = {k: p.detach() for k, p in net.named_parameters() if p.requires_grad}
    buffers = dict(net.named_buffers())

    def loss(params: dict, *sample: torch.Tensor) -> torch.Tensor:
        *x, target = (t.unsqueeze(0) for t in sample)
        head = cast("Head", net.head)
        return head.loss(functional_call(net, (params, buffers), tuple(x)), target)

    was_training = net.training
    net.eval()
    grads = vmap(grad(loss), in_dims=(None, *[0] * (len(inputs) + 1)))(params, *inputs, y)
    net.train(was_training)
    return torch.cat([g.flatten(1) for g in grads.values()], dim=1)


def gradient_noise_scale(net: torch.nn.Module, split: tuple[torch.Tensor, ...]) -> float:
    """B_simple = tr(Σ) / |G|² over the N samples of `split`: Σ the per-sample gradients'
    covariance, G their mean; |G|² is corrected for the noise of a mean of N."""
    g = per_sample_gradients(net, split)
    n = len(g)
    mean = g.mean(0)
    trace = (g - mean).pow(2).sum() / (n - 1)
    signal = mean.pow(2).sum() - trace / n
    return (trace / signal.clamp_min(1e-12)).item()


class BatchSizeStatistics(L.Callback):
    """Logs `time/train_s` (seconds of training since the fit started, validation excluded)
    and `train/noise_scale` (on the whole training split, every `every` epochs and before the
    first step)."""

    def __init__(self, every: int = 5) -> None:
        self.every, self.seconds = every, 0.0
        self.started: float | None = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == 0:
            pl_module.log("train/noise_scale", self._noise_scale(trainer, pl_module))
        self.started = time.perf_counter()

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._stop_clock()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._stop_clock()
        pl_module.log("time/train_s", self.seconds)
        if (trainer.current_epoch + 1) % self.every == 0:
            pl_module.log("train/noise_scale", self._noise_scale(trainer, pl_module))

    def _stop_clock(self) -> None:
        if self.started is not None:
            self.seconds += time.perf_counter() - self.started
            self.started = None

    @staticmethod
    def _noise_scale(trainer: L.Trainer, pl_module: L.LightningModule) -> float:
        net = cast(torch.nn.Module, pl_module.net)
        datamodule = cast(Any, trainer).datamodule  # set by Lightning at run time, undeclared
        return gradient_noise_scale(net, datamodule.splits["train"])

    def state_dict(self) -> dict[str, float]:
        return {"seconds": self.seconds}

    def load_state_dict(self, state_dict: dict[str, float]) -> None:
        self.seconds = state_dict["seconds"]
