"""Multi-task learning: one loss per head, combined by fixed weights, learned uncertainty
(Kendall, Gal & Cipolla 2018) or gradient surgery (PCGrad, Yu et al. 2020)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from zoo.tasks.base import OptimizerFactory, SchedulerFactory, ZooTask
from zoo.tasks.supervised import head_metrics

WEIGHTINGS = ("fixed", "uncertainty", "pcgrad")


def uncertainty_weighted(
    losses: torch.Tensor, log_vars: torch.Tensor, regression: torch.Tensor
) -> torch.Tensor:
    """Kendall et al. (2018), with s = log sigma^2 learned per task: a regression loss counts
    exp(-s)/2 * L + s/2 (Gaussian likelihood), a classification loss exp(-s) * L + s/2."""
    scale = torch.where(regression, 0.5, 1.0)
    return (scale * torch.exp(-log_vars) * losses + 0.5 * log_vars).sum()


def project_conflicts(grads: list[torch.Tensor], generator: torch.Generator) -> torch.Tensor:
    """PCGrad: for each task gradient, remove its component along every other task gradient it
    conflicts with (negative dot product), in random order; return the sum."""
    projected = []
    for i, g in enumerate(grads):
        g = g.clone()
        for j in torch.randperm(len(grads), generator=generator).tolist():
            dot = torch.dot(g, grads[j])
            if j != i and dot < 0:
                g -= dot / grads[j].pow(2).sum().clamp(min=1e-12) * grads[j]
        projected.append(g)
    return torch.stack(projected).sum(0)


class MultiTaskTask(ZooTask):
    """Trains a `zoo.patterns.MultiTask` on batches `(*inputs, *targets)`, with `targets` naming
    the heads in the order the data gives their labels. A NaN label is missing: that sample
    is left out of that head's loss and metrics only.

    `weighting`: `fixed` (sum of `weights[name]` x loss, 1 by default), `uncertainty` (learned
    log-variances with their own learning rate `log_var_lr`) or `pcgrad` (the shared trunk gets
    the conflict-projected sum of the task gradients; heads get their own). Logs
    `stage/<head>/loss`, the head's metrics as `stage/<head>/<metric>`, and each task's
    effective weight as `train/<head>/weight` (`zoo.figures.TaskWeightsFigure` plots them).
    """

    def __init__(
        self,
        net: nn.Module,
        targets: Sequence[str],
        weighting: str = "fixed",
        weights: Mapping[str, float] | None = None,
        log_var_lr: float | None = None,
        optimizer: OptimizerFactory | None = None,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
    ) -> None:
        super().__init__(net, optimizer, scheduler, scheduler_interval)
        self.targets = list(targets)
        heads = getattr(net, "heads", {})
        if sorted(self.targets) != sorted(heads):
            raise ValueError(
                f"task.targets={self.targets} must name the model's heads {sorted(heads)}"
            )
        if weighting not in WEIGHTINGS:
            raise ValueError(f"task.weighting={weighting!r}: expected one of {WEIGHTINGS}")
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(self.targets))
        if unknown or any(w < 0 for w in weights.values()):
            raise ValueError(
                f"task.weights={weights}: expected non-negative weights of {self.targets}"
            )
        self.weighting = weighting
        self.register_buffer(
            "weights", torch.tensor([float(weights.get(t, 1.0)) for t in self.targets])
        )
        self.register_buffer(
            "regression", torch.tensor([heads[t].problem == "regression" for t in self.targets])
        )
        self.log_vars = nn.Parameter(
            torch.zeros(len(self.targets)), requires_grad=weighting == "uncertainty"
        )
        self.log_var_lr = log_var_lr
        self.automatic_optimization = weighting != "pcgrad"
        self.generator = torch.Generator().manual_seed(0)
        self.metrics = nn.ModuleDict(
            {
                f"{stage}_{name}": head_metrics(heads[name].problem, heads[name].num_outputs).clone(
                    prefix=f"{stage}/{name}/"
                )
                for stage in ("val", "test")
                for name in self.targets
            }
        )

    def forward(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.net(*inputs)

    def head_losses(
        self, batch: tuple[torch.Tensor, ...], stage: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each head's loss over its labelled samples (0 where a batch has none), and how many
        samples each had."""
        n = len(self.targets)
        inputs, labels = batch[:-n], batch[-n:]
        outputs = self.net(*inputs)
        losses, counts = [], []
        for name, y in zip(self.targets, labels, strict=True):
            head, known = self.net.heads[name], ~torch.isnan(y.view(len(y), -1)).any(1)
            out = outputs[name][known]
            y = y[known] if head.problem == "regression" else y[known].long()
            counts.append(known.sum())
            losses.append(head.loss(out, y) if len(y) else out.sum() * 0.0)
            if stage != "train" and len(y):
                metrics = self.metrics[f"{stage}_{name}"]
                metrics.update(head.metric_input(out.detach()), y)
                self.log_dict(metrics, on_step=False, on_epoch=True)
        return torch.stack(losses), torch.stack(counts)

    def combine(self, losses: torch.Tensor) -> torch.Tensor:
        if self.weighting == "uncertainty":
            return uncertainty_weighted(losses, self.log_vars, self.regression)
        return (self.weights * losses).sum()

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        losses, counts = self.head_losses(batch, stage)
        if stage != "train":
            for name, loss, count in zip(self.targets, losses, counts, strict=True):
                self.log(f"{stage}/{name}/loss", loss, on_epoch=True, batch_size=int(count))
        total = self.combine(losses)
        self.log_loss(stage, total, len(batch[0]))
        if stage == "train" and self.weighting == "pcgrad":
            self.pcgrad_step(losses)
        return total

    def on_fit_start(self) -> None:
        if self.weighting == "pcgrad" and self.trainer.world_size > 1:
            raise ValueError(
                "task.weighting=pcgrad sets the trunk's gradients by hand, past DDP's gradient "
                f"averaging: run it on one device (got {self.trainer.world_size} processes)"
            )

    def pcgrad_step(self, losses: torch.Tensor) -> None:
        optimizer = self.optimizers()
        optimizer.zero_grad()
        shared = [p for p in self.net.trunk.parameters() if p.requires_grad]
        grads = [
            torch.cat([g.flatten() for g in torch.autograd.grad(loss, shared, retain_graph=True)])
            for loss in self.weights * losses
        ]
        self.manual_backward((self.weights * losses).sum())  # the heads' own gradients
        combined = project_conflicts(grads, self.generator)
        offset = 0
        for p in shared:
            p.grad = combined[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        optimizer.step()

    def task_weights(self) -> torch.Tensor:
        """The weight each head's loss gets now: fixed, or exp(-s) (halved for regression)."""
        if self.weighting != "uncertainty":
            return self.weights.clone()
        return torch.where(self.regression, 0.5, 1.0) * torch.exp(-self.log_vars.detach())

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        for name, weight in zip(self.targets, self.task_weights(), strict=True):
            self.log(f"train/{name}/weight", weight)
        if not self.automatic_optimization and self.lr_schedulers() is not None:
            self.lr_schedulers().step()

    def optimizer_parameters(self) -> Any:
        """The net's parameters, and the log-variances in a group with their own learning rate."""
        if self.weighting != "uncertainty":
            return self.net.parameters()
        uncertainty = {"params": [self.log_vars]}
        if self.log_var_lr is not None:
            uncertainty["lr"] = self.log_var_lr
        return [{"params": list(self.net.parameters())}, uncertainty]
