"""Teacher-student (model compression; Bucila et al. 2006, Hinton, Vinyals & Dean 2015): a
student learns to predict the outputs of a frozen teacher."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def freeze(teacher: nn.Module) -> nn.Module:
    """`teacher` in eval mode with no parameter requiring a gradient."""
    return teacher.eval().requires_grad_(False)


class FrozenTeacher(nn.Module):
    """A module that holds a frozen `teacher` next to what it trains: the teacher stays in eval
    mode whatever `train()` is asked (no dropout, no batch-norm updates), gets no gradient, is
    left out of `state_dict()`, and keeps its own tensors on `load_state_dict()`. Shared by
    `TeacherStudent` and `zoo.tasks.DistillationTask`."""

    def hold_teacher(self, teacher: nn.Module) -> None:
        """Freeze `teacher` and keep it as `self.teacher`, out of the saved weights."""
        self.teacher = freeze(teacher)
        self.register_state_dict_post_hook(_drop_teacher)
        self.register_load_state_dict_pre_hook(_keep_teacher)

    def train(self, mode: bool = True) -> FrozenTeacher:
        """Set training mode as `nn.Module.train` does, the teacher excepted: it stays in eval
        mode. Returns self."""
        super().train(mode)
        if "teacher" in self._modules:
            self.teacher.eval()
        return self


class TeacherStudent(FrozenTeacher):
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
        self.hold_teacher(teacher)
        self.student = student

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The same inputs to both: (student outputs, teacher outputs computed without a
        graph)."""
        with torch.no_grad():
            taught = self.teacher(*inputs)
        return self.student(*inputs), taught


def _drop_teacher(module: FrozenTeacher, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Saving leaves the teacher's entries out."""
    for key in [k for k in state if k.startswith(prefix + "teacher.")]:
        del state[key]


def _keep_teacher(module: FrozenTeacher, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Loading fills the teacher's entries with its own tensors: a student's weights load
    strictly, and a teacher is never overwritten."""
    for key, value in module.teacher.state_dict(prefix=prefix + "teacher.").items():
        state[key] = value
