"""Self-supervised contrastive learning (SimCLR, Chen et al. 2020): two random views of each
image, NT-Xent over the batch, no labels; judged by a linear probe on the frozen features."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from zoo.tasks.base import ZooTask
from zoo.tasks.probe import linear_probe
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Protocol

    class Encoder(Protocol):
        """What ContrastiveTask's probe reads of its net (zoo.patterns.SimCLR)."""

        def features(self, x: torch.Tensor) -> torch.Tensor: ...


class NTXent(nn.Module):
    """NT-Xent (Chen et al. 2020) on views stacked as [first views; second views]: each
    view's positive is the other view of its image, the other 2B - 2 views its negatives;
    softmax cross-entropy over cosine similarities divided by `temperature`.

    pytorch-metric-learning's NTXentLoss gives the same value (tests/test_simclr.py checks)
    but pairs every positive with every negative, O(B^3): 0.1 s a step at B = 64 on one core,
    7 s at 256, against well under a millisecond here."""

    def __init__(self, temperature: float) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"NTXent temperature must be positive, got {temperature}")
        self.temperature = temperature

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        if views.dim() != 2 or len(views) % 2:
            raise ValueError(
                f"NTXent expected (2B, D) embeddings of B images' two views, got "
                f"{tuple(views.shape)}"
            )
        z = F.normalize(views, dim=1)
        similarity = (z @ z.T / self.temperature).fill_diagonal_(float("-inf"))
        other_view = torch.arange(len(z), device=z.device).roll(len(z) // 2)
        return F.cross_entropy(similarity, other_view)


def randomly_initialised(net: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of `net` with every layer's parameters drawn afresh: the same architecture,
    nothing learned (the baseline a pretrained encoder must beat). One fixed draw (`seed`), so
    the baseline a card records is reproduced when the card is re-measured."""
    fresh = copy.deepcopy(net)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in fresh.modules():
            if hasattr(module, "reset_parameters"):
                cast(Callable[[], None], module.reset_parameters)()
    return fresh


@register("task")
class ContrastiveTask(ZooTask):
    """Trains `net` (a `zoo.patterns.SimCLR`: projections from `forward`, backbone output from
    `features`) on batches `(x, *ignored)`: `augment` draws two views of every image and
    NT-Xent (`temperature`) pulls each pair together. Labels are never read in training.

    Logs `stage/loss`; at test, `test/probe_acc`: a logistic regression on the frozen features
    of the training split, scored on the test split, and `test/random_probe_acc`, the same
    probe on a randomly initialised copy of the net (random features are strong on small
    images: this is the baseline pretraining must beat)."""

    logged = ("test/probe_acc", "test/random_probe_acc")

    def __init__(
        self, net: nn.Module, *, augment: nn.Module, temperature: float = 0.5, **kwargs: Any
    ) -> None:
        super().__init__(net, **kwargs)
        if temperature <= 0:
            raise ValueError(f"task.temperature must be positive, got {temperature}")
        self.augment, self.temperature = augment, temperature
        self.criterion = NTXent(temperature)
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
        loss = self.criterion(self.net(views))
        self.log_loss(stage, loss, len(x))
        if stage == "test":
            self.test_batches.append((x, batch[1]))
        return loss

    def on_test_epoch_start(self) -> None:
        self.test_batches = []

    def on_test_epoch_end(self) -> None:
        super().on_test_epoch_end()
        datamodule: Any = getattr(self.trainer, "datamodule", None)
        if not self.test_batches or not hasattr(datamodule, "training_tensors"):
            return
        train = tuple(t.to(self.device) for t in datamodule.training_tensors()[:2])
        inputs, labels = zip(*self.test_batches, strict=True)
        test = (torch.cat(inputs), torch.cat(labels))
        self.test_batches = []
        was_training = self.net.training
        pretrained = cast("Encoder", self.net.eval())
        random = cast("Encoder", randomly_initialised(self.net).eval())
        self.log_dict(
            {
                "test/probe_acc": linear_probe(pretrained.features, train, test),
                "test/random_probe_acc": linear_probe(random.features, train, test),
            }
        )
        self.net.train(was_training)
