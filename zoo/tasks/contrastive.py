"""Self-supervised contrastive learning (SimCLR, Chen et al. 2020): two random views of each
image, NT-Xent over the batch, no labels; judged by a linear probe on the frozen features."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from zoo.tasks.base import ZooTask
from zoo.tasks.probe import linear_probe


def nt_xent(temperature: float) -> nn.Module:
    """pytorch-metric-learning's NT-Xent: each view's positive is the other view of its image,
    every other view in the batch a negative, by cosine similarity over `temperature`."""
    from pytorch_metric_learning import losses

    return losses.NTXentLoss(temperature=temperature)


def randomly_initialised(net: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of `net` with every layer's parameters drawn afresh: the same architecture,
    nothing learned (the baseline a pretrained encoder must beat). One fixed draw (`seed`), so
    the baseline a card records is reproduced when the card is re-measured."""
    fresh = copy.deepcopy(net)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in fresh.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return fresh


class ContrastiveTask(ZooTask):
    """Trains `net` (a `zoo.patterns.SimCLR`: projections from `forward`, backbone output from
    `features`) on batches `(x, *ignored)`: `augment` draws two views of every image and
    NT-Xent (`temperature`) pulls each pair together. Labels are never read in training.

    Logs `stage/loss`; at test, `test/probe_acc`: a logistic regression on the frozen features
    of the training split, scored on the test split, and `test/random_probe_acc`, the same
    probe on a randomly initialised copy of the net (random features are strong on small
    images: this is the baseline pretraining must beat)."""

    def __init__(
        self, net: nn.Module, *, augment: nn.Module, temperature: float = 0.5, **kwargs: Any
    ) -> None:
        super().__init__(net, **kwargs)
        if temperature <= 0:
            raise ValueError(f"task.temperature must be positive, got {temperature}")
        self.augment, self.temperature = augment, temperature
        self.criterion = nt_xent(temperature)
        self.test_batches: list[tuple[torch.Tensor, torch.Tensor]] = []

    @classmethod
    def check_net(cls, net: nn.Module) -> None:
        if not callable(getattr(net, "features", None)):
            raise TypeError(
                f"ContrastiveTask needs a net with .features(x) (zoo.patterns.SimCLR), got "
                f"{type(net).__name__}"
            )

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x = batch[0]
        views = torch.cat([self.augment(x, always=True), self.augment(x, always=True)])
        pairs = torch.arange(len(x), device=x.device).repeat(2)
        loss = self.criterion(self.net(views), pairs)
        self.log_loss(stage, loss, len(x))
        if stage == "test":
            self.test_batches.append((x, batch[1]))
        return loss

    def on_test_epoch_start(self) -> None:
        self.test_batches = []

    def on_test_epoch_end(self) -> None:
        super().on_test_epoch_end()
        datamodule = getattr(self.trainer, "datamodule", None)
        if not self.test_batches or not hasattr(datamodule, "training_tensors"):
            return
        train = tuple(t.to(self.device) for t in datamodule.training_tensors()[:2])
        test = tuple(torch.cat(t) for t in zip(*self.test_batches, strict=True))
        self.test_batches = []
        was_training = self.net.training
        pretrained, random = self.net.eval(), randomly_initialised(self.net).eval()
        self.log_dict(
            {
                "test/probe_acc": linear_probe(pretrained.features, train, test),
                "test/random_probe_acc": linear_probe(random.features, train, test),
            }
        )
        self.net.train(was_training)
