"""Teacher-student (model compression; Bucila et al. 2006, Hinton, Vinyals & Dean 2015): a
student learns to predict the outputs of a frozen teacher."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.utils.builder import register


def freeze(teacher: nn.Module) -> nn.Module:
    """`teacher` in eval mode with no parameter requiring a gradient."""
    return teacher.eval().requires_grad_(False)


class HoldsFrozen(nn.Module):
    """A module that holds frozen modules next to what it trains (a teacher, a judge): each
    stays in eval mode whatever `train()` is asked (no dropout, no batch-norm updates), gets no
    gradient, is left out of `state_dict()`, and keeps its own tensors on `load_state_dict()`.
    Shared by `TeacherStudent`, `zoo.tasks.DistillationTask` and `zoo.tasks.GANTask`."""

    frozen: tuple[str, ...] = ()

    def hold_frozen(self, name: str, module: nn.Module) -> None:
        """Freeze `module` and keep it as `self.<name>`, out of the saved weights."""
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"{name} must be a module, got {module!r}; a config builds one from weights' "
                f"name as {name}: {{_target_: zoo.load_model, source: NAME}}"
            )
        if not self.frozen:
            self.register_state_dict_post_hook(_drop_frozen)
            self.register_load_state_dict_pre_hook(_keep_frozen)
        setattr(self, name, freeze(module))
        self.frozen = (*self.frozen, name)

    def train(self, mode: bool = True) -> HoldsFrozen:
        """Set training mode as `nn.Module.train` does, the frozen modules excepted: they stay
        in eval mode. Returns self."""
        super().train(mode)
        for name in self.frozen:
            getattr(self, name).eval()
        return self


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


def _drop_frozen(module: HoldsFrozen, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Saving leaves the frozen modules' entries out."""
    frozen = tuple(f"{prefix}{name}." for name in module.frozen)
    for key in [k for k in state if k.startswith(frozen)]:
        del state[key]


def _keep_frozen(module: HoldsFrozen, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Loading fills the frozen modules' entries with their own tensors: a student's weights
    load strictly, and a teacher is never overwritten."""
    for name in module.frozen:
        state.update(getattr(module, name).state_dict(prefix=f"{prefix}{name}."))
