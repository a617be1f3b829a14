"""Teacher-student (model compression; Bucila et al. 2006, Hinton, Vinyals & Dean 2015): a
student learns to predict the outputs of a frozen teacher."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def freeze(teacher: nn.Module) -> nn.Module:
    """`teacher` in eval mode with no parameter requiring a gradient."""
    return teacher.eval().requires_grad_(False)


class TeacherStudent(nn.Module):
    """A trainable `student` next to a frozen `teacher`; `forward` returns both outputs, the
    teacher's computed without a graph.

    The teacher stays in eval mode whatever `train()` is asked (no dropout, no batch-norm
    updates), gets no gradient, and is left out of `state_dict()`: saved weights are the
    student's alone, and loading them needs no teacher weights. Optimise `student.parameters()`.
    With `zoo.tasks.distill_losses.distillation_loss` it is the whole pattern in a plain loop;
    `zoo.tasks.DistillationTask` trains it with Lightning.
    """

    def __init__(self, teacher: nn.Module, student: nn.Module) -> None:
        super().__init__()
        self.teacher, self.student = freeze(teacher), student
        self.register_state_dict_post_hook(_drop_teacher)
        self.register_load_state_dict_pre_hook(_keep_teacher)

    def train(self, mode: bool = True) -> TeacherStudent:
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            taught = self.teacher(*inputs)
        return self.student(*inputs), taught


def _drop_teacher(module: TeacherStudent, state: dict[str, Any], prefix: str, *_: Any) -> None:
    for key in [k for k in state if k.startswith(prefix + "teacher.")]:
        del state[key]


def _keep_teacher(module: TeacherStudent, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Loading fills the teacher's entries with its own tensors: a student's weights load
    strictly, and a teacher is never overwritten."""
    for key, value in module.teacher.state_dict(prefix=prefix + "teacher.").items():
        state[key] = value
