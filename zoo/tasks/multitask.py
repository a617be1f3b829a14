"""Multi-task learning: one loss per head, combined by fixed weights, learned uncertainty
(Kendall, Gal & Cipolla 2018) or gradient surgery (PCGrad, Yu et al. 2020)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

from zoo.tasks.base import ZooTask
from zoo.tasks.supervised import head_metrics
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Protocol

    from lightning.pytorch.core.optimizer import LightningOptimizer

    from zoo.blocks.heads import Head

    class MultiTaskNet(Protocol):
        """What MultiTaskTask needs of its net (zoo.patterns.MultiTask)."""

        trunk: nn.Module
        heads: nn.ModuleDict  # of Heads

        def __call__(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]: ...


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


class Weighting:
    """How a multi-task loss is made from the heads' losses, and what training then needs.

    This base is fixed weighting: the total is sum_t weights[t] * L_t. A strategy is chosen
    once, from the config string (`task.weighting`), and the task calls its methods with itself
    (`task.weights`, `task.log_vars`, `task.regression` live on the task, as buffers and a
    parameter).
    """

    name = "fixed"
    learns_log_vars = False  # whether `task.log_vars` trains
    automatic_optimization = True  # False: `manual_step` does backward and step

    def combine(self, task: MultiTaskTask, losses: torch.Tensor) -> torch.Tensor:
        """The total loss from the heads' losses (T,): a scalar."""
        return (task.weights * losses).sum()

    def task_weights(self, task: MultiTaskTask) -> torch.Tensor:
        """The weight each head's loss gets now (T,), logged as `train/<head>/weight`."""
        return task.weights.clone()

    def optimizer_parameters(self, task: MultiTaskTask) -> Any:
        """What the optimizer trains: the net's parameters."""
        return task.net.parameters()

    def manual_step(self, task: MultiTaskTask, losses: torch.Tensor) -> None:
        """Backward pass and optimizer step of a training batch, when the strategy turns
        Lightning's automatic optimization off (not here)."""

    def check_fit(self, task: MultiTaskTask) -> None:
        """Raise where the strategy cannot run on the task's trainer (it always can here)."""


class FixedWeighting(Weighting):
    """sum_t weights[t] * L_t, with `task.weights` (1 each by default)."""


class UncertaintyWeighting(Weighting):
    """Learned homoscedastic uncertainty (Kendall, Gal & Cipolla 2018): one log-variance per
    task, trained with the net (at its own learning rate `log_var_lr`, if given)."""

    name = "uncertainty"
    learns_log_vars = True

    def combine(self, task: MultiTaskTask, losses: torch.Tensor) -> torch.Tensor:
        """`uncertainty_weighted` losses: exp(-s) * L + s/2 per task, regression halved."""
        return uncertainty_weighted(losses, task.log_vars, task.regression)

    def task_weights(self, task: MultiTaskTask) -> torch.Tensor:
        """exp(-s) per task (halved for regression)."""
        return torch.where(task.regression, 0.5, 1.0) * torch.exp(-task.log_vars.detach())

    def optimizer_parameters(self, task: MultiTaskTask) -> Any:
        """The net's parameters, and the log-variances in a group with their own learning
        rate."""
        uncertainty: dict[str, Any] = {"params": [task.log_vars]}
        if task.log_var_lr is not None:
            uncertainty["lr"] = task.log_var_lr
        return [{"params": list(task.net.parameters())}, uncertainty]


class PCGradWeighting(Weighting):
    """Gradient surgery (PCGrad, Yu et al. 2020): the shared trunk gets the conflict-projected
    sum of the weighted task gradients (`project_conflicts`), the heads their own gradients.
    Sets gradients by hand, so it optimizes manually, on one device."""

    name = "pcgrad"
    automatic_optimization = False

    def __init__(self) -> None:
        self.generator = torch.Generator().manual_seed(0)  # the projection order

    def manual_step(self, task: MultiTaskTask, losses: torch.Tensor) -> None:
        """Per-task trunk gradients, projected and summed; the heads' own; one optimizer step."""
        optimizer = cast("LightningOptimizer", task.optimizers())  # one optimizer
        optimizer.zero_grad()
        trunk = cast("MultiTaskNet", task.net).trunk
        shared = [p for p in trunk.parameters() if p.requires_grad]
        weighted = task.weights * losses
        grads = [
            torch.cat([g.flatten() for g in torch.autograd.grad(loss, shared, retain_graph=True)])
            for loss in weighted
        ]
        task.manual_backward(weighted.sum())  # the heads' own gradients
        combined = project_conflicts(grads, self.generator)
        offset = 0
        for p in shared:
            p.grad = combined[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        optimizer.step()

    def check_fit(self, task: MultiTaskTask) -> None:
        """PCGrad sets the trunk's gradients past DDP's averaging: one process only."""
        if task.trainer.world_size > 1:
            raise ValueError(
                "task.weighting=pcgrad sets the trunk's gradients by hand, past DDP's gradient "
                f"averaging: run it on one device (got {task.trainer.world_size} processes)"
            )


WEIGHTINGS: dict[str, type[Weighting]] = {
    w.name: w for w in (FixedWeighting, UncertaintyWeighting, PCGradWeighting)
}


@register("task")
class MultiTaskTask(ZooTask):
    """Trains a `zoo.patterns.MultiTask` on batches `(*inputs, *targets)`, with `targets` naming
    the heads in the order the data gives their labels. A NaN label is missing: that sample
    is left out of that head's loss and metrics only.

    `weighting` names a strategy of `WEIGHTINGS`: `fixed` (sum of `weights[name]` x loss, 1 by
    default), `uncertainty` (learned log-variances with their own learning rate `log_var_lr`)
    or `pcgrad` (the shared trunk gets the conflict-projected sum of the task gradients; heads
    get their own). Logs `stage/<head>/loss`, the head's metrics as `stage/<head>/<metric>`,
    and each task's effective weight as `train/<head>/weight` (`zoo.callbacks.figures.TaskWeightsFigure`
    plots them).
    """

    # buffers (register_buffer in __init__)
    weights: torch.Tensor
    regression: torch.Tensor

    def metric_names(self) -> None:
        """None: the names depend on the data (N-way accuracies, one group per target)."""
        return None

    def __init__(
        self,
        net: nn.Module,
        *,
        targets: Sequence[str],
        weighting: str = "fixed",
        weights: Mapping[str, float] | None = None,
        log_var_lr: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, **kwargs)
        self.targets = list(targets)
        heads = getattr(net, "heads", {})
        if sorted(self.targets) != sorted(heads):
            raise ValueError(
                f"task.targets={self.targets} must name the model's heads {sorted(heads)}"
            )
        if weighting not in WEIGHTINGS:
            raise ValueError(f"task.weighting={weighting!r}: expected one of {tuple(WEIGHTINGS)}")
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(self.targets))
        if unknown or any(w < 0 for w in weights.values()):
            raise ValueError(
                f"task.weights={weights}: expected non-negative weights of {self.targets}"
            )
        self.weighting, self.strategy = weighting, WEIGHTINGS[weighting]()
        self.register_buffer(
            "weights", torch.tensor([float(weights.get(t, 1.0)) for t in self.targets])
        )
        self.register_buffer(
            "regression", torch.tensor([heads[t].problem == "regression" for t in self.targets])
        )
        self.log_vars = nn.Parameter(
            torch.zeros(len(self.targets)), requires_grad=self.strategy.learns_log_vars
        )
        self.log_var_lr = log_var_lr
        self.automatic_optimization = self.strategy.automatic_optimization
        for name in self.targets:
            self.add_metrics(head_metrics(heads[name].problem, heads[name].num_outputs), name=name)

    def head_losses(
        self, batch: tuple[torch.Tensor, ...], stage: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each head's loss over its labelled samples (0 where a batch has none), and how many
        samples each had."""
        n = len(self.targets)
        inputs, labels = batch[:-n], batch[-n:]
        net = cast("MultiTaskNet", self.net)
        outputs = net(*inputs)
        losses, counts = [], []
        for name, y in zip(self.targets, labels, strict=True):
            head, known = cast("Head", net.heads[name]), ~torch.isnan(y.view(len(y), -1)).any(1)
            out = outputs[name][known]
            y = y[known] if head.problem == "regression" else y[known].long()
            counts.append(known.sum())
            losses.append(head.loss(out, y) if len(y) else out.sum() * 0.0)
            if len(y):
                self.update_metrics(stage, head.metric_input(out.detach()), y, name=name)
        return torch.stack(losses), torch.stack(counts)

    def combine(self, losses: torch.Tensor) -> torch.Tensor:
        """The total loss from the heads' losses, as the weighting strategy forms it."""
        return self.strategy.combine(self, losses)

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        losses, counts = self.head_losses(batch, stage)
        if stage != "train":
            for name, loss, count in zip(self.targets, losses, counts, strict=True):
                self.log(f"{stage}/{name}/loss", loss, on_epoch=True, batch_size=int(count))
        total = self.combine(losses)
        self.log_loss(stage, total, len(batch[0]))
        if stage == "train" and not self.automatic_optimization:
            self.strategy.manual_step(self, losses)
        return total

    def on_fit_start(self) -> None:
        super().on_fit_start()
        self.strategy.check_fit(self)

    def task_weights(self) -> torch.Tensor:
        """The weight each head's loss gets now: fixed, or exp(-s) (halved for regression)."""
        return self.strategy.task_weights(self)

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        for name, weight in zip(self.targets, self.task_weights(), strict=True):
            self.log(f"train/{name}/weight", weight)
        if not self.automatic_optimization and self.lr_schedulers() is not None:
            # one optimizer, so one scheduler: the base's, stepped without a metric
            cast(torch.optim.lr_scheduler.LRScheduler, self.lr_schedulers()).step()

    def optimizer_parameters(self) -> Any:
        """What the weighting strategy trains: the net's parameters, and the log-variances for
        `uncertainty`."""
        return self.strategy.optimizer_parameters(self)
