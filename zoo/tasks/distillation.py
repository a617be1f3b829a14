"""Teacher-student distillation (model compression; Bucila et al. 2006, Hinton et al. 2015):
a frozen teacher's softened outputs, and optionally its features, train a smaller student."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import torch
from torch import nn

from zoo.blocks.features import tap_features
from zoo.blocks.frozen import HoldsFrozen
from zoo.tasks.distill_losses import HintLoss, distillation_loss
from zoo.tasks.supervised import SupervisedTask
from zoo.utils.builder import register


@register("task")
class DistillationTask(HoldsFrozen, SupervisedTask):
    """Trains `net` (the student, whose `head` is a `zoo.blocks.Head`) to match `teacher`: the
    `zoo.patterns.TeacherStudent` pattern with Lightning, configs and checkpoints.

    Loss: alpha * cross-entropy with the labels + (1 - alpha) * T^2 * KL of the softened
    outputs, plus `hint_weight` x FitNets hint losses for `hints` ({student layer: teacher
    layer}, through learned adapters). The teacher is held as in `TeacherStudent` (the same
    `HoldsFrozen` code): frozen (eval mode, no gradients), left out of the optimizer and of
    the checkpoint, whose state dict holds the student alone (and the hint adapters);
    `zoo.load_checkpoint` rebuilds the student without the teacher. `teacher` is a module:
    configs build it with `_target_: zoo.load_model` (a registry name, a model directory or a
    train.py `.ckpt`) or from a model config. Metrics and `val/loss` are the student's.
    `cache_teacher`: the teacher's outputs for the training split are computed once when
    training starts, not at every step (a fixed transfer set: no augmentation, no hints).
    """

    teacher: nn.Module  # held frozen (`hold_frozen`)

    def __init__(
        self,
        net: nn.Module,
        *,
        teacher: nn.Module,
        temperature: float = 4.0,
        alpha: float = 0.5,
        hints: Mapping[str, str] | None = None,
        hint_weight: float = 1.0,
        cache_teacher: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(net, **kwargs)
        if temperature <= 0:
            raise ValueError(f"task.temperature must be positive, got {temperature}")
        if not 0 <= alpha <= 1:
            raise ValueError(f"task.alpha must lie in [0, 1], got {alpha}")
        self.hold_frozen("teacher", teacher)
        self.temperature, self.alpha, self.hint_weight = temperature, alpha, hint_weight
        self.hints = dict(hints or {})
        if cache_teacher and self.hints:
            raise ValueError(
                "task.cache_teacher keeps the teacher's outputs only, task.hints need its "
                f"features at every step: set one of them off (hints: {self.hints})"
            )
        self.cache_teacher = cache_teacher
        self.hint_losses = nn.ModuleDict(self._hint_losses())

    @torch.no_grad()
    def _hint_losses(self) -> dict[str, HintLoss]:
        """One adapter per hint, sized by a dry run of both networks on a zero batch."""
        if not self.hints:
            return {}
        x = torch.zeros(2, *cast(tuple[int, ...], self.net.input_shape))
        was_training = self.net.training
        self.net.eval()
        with tap_features(self.net, list(self.hints)) as student:
            self.net(x)
        with tap_features(self.teacher, list(self.hints.values())) as teacher:
            self.teacher(x)
        self.net.train(was_training)
        return {
            s.replace(".", "_"): HintLoss(
                student[s].shape[1], teacher[t].shape[1], spatial=student[s].dim() == 4
            )
            for s, t in self.hints.items()
        }

    def optimizer_parameters(self) -> Any:
        return [*self.net.parameters(), *self.hint_losses.parameters()]

    def on_fit_start(self) -> None:
        super().on_fit_start()
        if self.cache_teacher:
            self._attach_teacher_outputs()

    def on_fit_end(self) -> None:
        if self.cache_teacher:
            cast(Any, self.trainer).datamodule.attach_to_training(None)

    @torch.no_grad()
    def _attach_teacher_outputs(self) -> None:
        """The teacher's outputs for every training sample, riding along with the batches."""
        datamodule = cast(Any, self.trainer).datamodule  # Lightning sets it, untyped
        if not getattr(datamodule, "fixed_training_inputs", False):
            raise ValueError(
                "task.cache_teacher needs in-memory data whose training inputs stay fixed (no "
                f"augmentation such as data.jitter), got {type(datamodule).__name__}"
            )
        datamodule.attach_to_training(None)
        *inputs, _ = datamodule.training_tensors()
        chunks = zip(*(t.split(1024) for t in inputs), strict=True)
        datamodule.attach_to_training(torch.cat([self.teacher(*chunk) for chunk in chunks]))

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        if stage != "train":  # the student is judged on its own
            return super()._step(batch, stage)
        if self.cache_teacher:
            *inputs, y, teacher_logits = batch
        else:
            *inputs, y = batch
        with tap_features(self.net, list(self.hints)) as student_features:
            logits = self.net(*inputs)
        if not self.cache_teacher:
            with torch.no_grad(), tap_features(self.teacher, list(self.hints.values())) as taught:
                teacher_logits = self.teacher(*inputs)
        loss = distillation_loss(logits, teacher_logits, y, self.temperature, self.alpha)
        for s, t in self.hints.items():
            hint = self.hint_losses[s.replace(".", "_")]
            loss = loss + self.hint_weight * hint(student_features[s], taught[t])
        self.log_loss(stage, loss, len(y))
        return loss
