"""Metric learning for Siamese networks from class-labelled batches, evaluated by N-way
one-shot accuracy on classes never seen in training, and on the fixed runs a data module
defines (Omniglot's 20 official runs)."""

from __future__ import annotations

from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from zoo.analysis.baselines import pixel_nearest_neighbour
from zoo.analysis.oneshot import OneShotRuns, official_accuracy, one_shot_report
from zoo.patterns.siamese import Siamese
from zoo.tasks.base import ZooTask
from zoo.tasks.metric_losses import (
    LOSSES,
    MINERS,
    pml_loss,
    verification_loss,
)
from zoo.utils.builder import register


@register("task")
class MetricLearningTask(ZooTask):
    """Trains `net` (a `zoo.patterns.Siamese`) on batches `(x, label)` with one loss over the
    batch's pairs: `contrastive`, `triplet` (with `miner`) or `verification` (the net's head,
    Koch et al. 2015); or `softmax`: a linear classifier over the embeddings into the
    `num_classes` training classes, trained by cross-entropy and kept by the task, not the net
    (the embeddings, the features before it, are what the net compares; validation and test
    log no loss then, their classes being new). At the end of validation and test it logs, on
    the split's unseen classes, `acc_5way`, `acc_20way` (one per entry of `ways`), `auroc` and
    `precision_at_1`; the test also logs them for raw-pixel nearest neighbours on the same
    episodes (`pixel_acc_{N}way`, `pixel_auroc`), the baseline of Koch et al.'s Table 2.

    When the data module defines fixed runs (`one_shot_runs()`, Omniglot's 20 official runs of
    Lake et al. 2015), the test also logs `test/acc_official_{N}way`, their accuracy scored as
    Lake et al. score it (`zoo.analysis.oneshot.official_accuracy`), and
    `test/pixel_acc_official_{N}way`, raw-pixel nearest neighbours on the same runs."""

    def metric_names(self) -> None:
        """None: the names depend on the data (N-way accuracies, one group per target)."""
        return None

    def __init__(
        self,
        net: nn.Module,
        *,
        loss: str = "contrastive",
        margin: float = 1.0,
        miner: str | None = None,
        ways: tuple[int, ...] = (5, 20),
        episodes: int = 1000,
        num_classes: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, **kwargs)
        if loss not in LOSSES:
            raise ValueError(f"task.loss={loss!r}: expected one of {LOSSES}")
        if miner not in MINERS or (miner and loss != "triplet"):
            raise ValueError(f"task.miner={miner!r}: expected one of {MINERS} (triplet loss only)")
        if loss == "verification" and getattr(net, "head", None) is None:
            raise ValueError("task.loss=verification needs a net with a head to score pairs")
        if margin <= 0:
            raise ValueError(f"task.margin must be positive, got {margin}")
        self.classifier: nn.Linear | None = None
        if loss == "softmax":
            if not num_classes or num_classes < 2:
                raise ValueError(
                    f"task.loss=softmax needs task.num_classes, the training classes (>= 2), "
                    f"got {num_classes}"
                )
            width = cast(Siamese, net).embedding_dim
            self.classifier = nn.Linear(width, num_classes)
        own_loss = loss in ("verification", "softmax")
        self.pml_loss = None if own_loss else pml_loss(loss, margin, miner)
        self.ways, self.episodes = tuple(ways), episodes
        self.seen: list[tuple[torch.Tensor, ...]] = []

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.classifier is not None:
            return F.cross_entropy(self.classifier(embeddings), labels)
        if self.pml_loss is None:
            return verification_loss(self.net, embeddings, labels)
        return self.pml_loss(embeddings, labels)

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        x, labels = batch
        embeddings = cast(Siamese, self.net).embed(x)
        if stage == "train" or self.classifier is None:  # a classifier knows no new class
            loss = self.loss(embeddings, labels)
            self.log_loss(stage, loss, len(labels))
        else:
            loss = embeddings.new_zeros(())  # not logged
        if stage != "train":  # the test also keeps raw inputs for the pixel baseline
            raw = x.flatten(1) if stage == "test" else x.new_empty(len(x), 0)
            self.seen.append((embeddings.detach(), labels, raw))
        return loss

    def on_validation_epoch_start(self) -> None:
        self.seen = []

    on_test_epoch_start = on_validation_epoch_start

    def _report(self, stage: str) -> None:
        embeddings, labels, raw = (torch.cat(t) for t in zip(*self.seen, strict=True))
        if self.trainer.world_size > 1:
            embeddings, labels, raw = (
                cast(torch.Tensor, self.all_gather(t)).flatten(0, 1)
                for t in (embeddings, labels, raw)
            )
        self.seen = []
        report = one_shot_report(self.net, embeddings, labels, self.ways, self.episodes)
        if stage == "test":  # the same episodes, compared by raw-pixel distance
            pixels = Siamese(nn.Identity(), raw.shape[1:])
            baseline = one_shot_report(
                pixels, raw, labels, self.ways, self.episodes, nearest_neighbour=False
            )
            report |= {f"pixel_{k}": v for k, v in baseline.items()}
            report |= self.official_report()
        self.log_dict({f"{stage}/{k}": v for k, v in report.items()})

    def official_report(self) -> dict[str, float]:
        """`acc_official_{N}way` of the net and `pixel_acc_official_{N}way` of raw-pixel
        nearest neighbours on the data module's fixed runs, if it defines them (every process
        scores all the runs: the same figure everywhere)."""
        datamodule: Any = getattr(self.trainer, "datamodule", None)
        if not callable(getattr(datamodule, "one_shot_runs", None)):
            return {}
        runs = cast(OneShotRuns, datamodule.one_shot_runs()).to(self.device)
        name = f"acc_official_{runs.ways}way"
        return {
            name: official_accuracy(self.net, runs),
            f"pixel_{name}": pixel_nearest_neighbour(runs),
        }

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        if self.seen:
            self._report("val")

    def on_test_epoch_end(self) -> None:
        super().on_test_epoch_end()
        if self.seen:
            self._report("test")
