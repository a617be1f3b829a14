"""Teacher-student (model compression; Bucila et al. 2006, Hinton, Vinyals & Dean 2015): a
student learns to predict the outputs of a frozen teacher."""

from __future__ import annotations

import torch
from torch import nn

from zoo.blocks.frozen import HoldsFrozen
from zoo.utils.builder import register


@register()
class TeacherStudent(HoldsFrozen):
    """A trainable `student` next to a frozen `teacher`; `forward` returns both outputs, the
    teacher's computed without a graph.

    The teacher stays in eval mode whatever `train()` is asked (no dropout, no batch-norm
    updates), gets no gradient, and is left out of `state_dict()`: saved weights are the
    student's alone, and loading them needs no teacher weights. Optimise `student.parameters()`.
    With `zoo.tasks.distill_losses.distillation_loss` it is the whole pattern in a plain loop;
    `zoo.tasks.DistillationTask` trains it with Lightning.
    """

    teacher: nn.Module  # set by `hold_frozen`

    def __init__(self, teacher: nn.Module, student: nn.Module) -> None:
        super().__init__()
        self.hold_frozen("teacher", teacher)
        self.student = student

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same inputs to both: (student outputs, teacher outputs computed without a
        graph)."""
        with torch.no_grad():
            taught = self.teacher(*inputs)
        return self.student(*inputs), taught
