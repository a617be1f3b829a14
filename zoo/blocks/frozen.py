"""Frozen parts: modules that never train. The one freezing mechanism of the zoo, for a
teacher or a judge held beside what trains (distillation, a GAN's judge) and for a pretrained
encoder under a trained head (the linear evaluation of SimCLR, Chen et al. 2020)."""

from __future__ import annotations

from typing import Any, Self

import torch
from torch import nn

from zoo.utils.builder import register


def freeze(module: nn.Module) -> nn.Module:
    """`module` in eval mode with no parameter requiring a gradient (a lazy layer's parameters
    have no size yet: a frozen part runs outside autograd, so they get none either)."""
    for parameter in module.parameters():
        if not isinstance(parameter, nn.parameter.UninitializedParameter):
            parameter.requires_grad_(False)
    return module.eval()


class HoldsFrozen(nn.Module):
    """A module with frozen parts: each stays in eval mode whatever `train()` is asked (no
    dropout, no batch-norm updates) and gets no gradient. `frozen` names them ("" is the
    module itself); parts held with `hold_frozen` are also left out of `state_dict()` and keep
    their own tensors on `load_state_dict()`, so saved weights are those that train."""

    frozen: tuple[str, ...] = ()
    unsaved: tuple[str, ...] = ()

    def hold_frozen(self, name: str, module: nn.Module) -> None:
        """Freeze `module` and keep it as `self.<name>`, out of the saved weights."""
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"{name} must be a module, got {module!r}; a config builds one from weights' "
                f"name as {name}: {{_target_: zoo.load_model, source: NAME}}"
            )
        if not self.unsaved:
            self.register_state_dict_post_hook(_drop_unsaved)
            self.register_load_state_dict_pre_hook(_keep_unsaved)
        setattr(self, name, freeze(module))
        self.frozen, self.unsaved = (*self.frozen, name), (*self.unsaved, name)

    def train(self, mode: bool = True) -> Self:
        """Set training mode as `nn.Module.train` does, the frozen parts excepted: they stay
        in eval mode. Returns self."""
        super().train(mode)
        for name in self.frozen:
            nn.Module.train(self.get_submodule(name), False)
        return self


@register()
class FrozenSequential(HoldsFrozen, nn.Sequential):
    """`nn.Sequential` (same layers, same weight names, saved with the model) that never trains:
    frozen as a whole, and run outside autograd."""

    frozen = ("",)

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__(*layers)
        freeze(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The layers in order, outside autograd."""
        with torch.no_grad():
            return super().forward(x)


def _drop_unsaved(module: HoldsFrozen, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Saving leaves the held parts' entries out."""
    unsaved = tuple(f"{prefix}{name}." for name in module.unsaved)
    for key in [k for k in state if k.startswith(unsaved)]:
        del state[key]


def _keep_unsaved(module: HoldsFrozen, state: dict[str, Any], prefix: str, *_: Any) -> None:
    """Loading fills the held parts' entries with their own tensors: a student's weights load
    strictly, and a teacher is never overwritten."""
    for name in module.unsaved:
        state.update(getattr(module, name).state_dict(prefix=f"{prefix}{name}."))
