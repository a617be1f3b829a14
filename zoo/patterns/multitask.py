"""Multi-task networks with hard parameter sharing (Caruana 1997): one trunk computes a shared
representation, and every task reads it through its own head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from zoo.blocks.heads import HeadLike, build_head
from zoo.blocks.shapes import check_shape, output_width
from zoo.utils.builder import register


@register()
class MultiTask(nn.Module):
    """`{name: head(trunk(x).flatten(1))}` for inputs `(N, *input_shape)`.

    `heads` maps task names to `Head`s or to callables taking the trunk's output width (Hydra
    partials), so any mix of binary, multi-label, multi-class and regression heads fits. `tasks`
    picks which heads the model has (all by default), so one config serves the multi-task model
    and each single-task baseline.

    `.heads` maps each task name to its `Head`: a plain loop trains with
    `sum(net.heads[t].loss(out[t], y[t]) for t in net.heads)`, `out = net(x)`.
    """

    def __init__(
        self,
        trunk: nn.Module,
        heads: Mapping[str, HeadLike],
        input_shape: Sequence[int],
        tasks: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        tasks = list(tasks or heads)
        if not tasks or any(t not in heads for t in tasks):
            raise ValueError(
                f"tasks={tasks}: expected a non-empty subset of the heads {list(heads)}"
            )
        self.input_shape = tuple(int(s) for s in input_shape)
        self.trunk = trunk
        width = output_width(trunk, self.input_shape)
        self.heads = nn.ModuleDict({t: build_head(heads[t], width) for t in tasks})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Inputs `(N, *input_shape)` -> {task name: that head's logits}."""
        check_shape(x, self.input_shape, type(self).__name__)
        features = self.trunk(x).flatten(1)
        return {name: head(features) for name, head in self.heads.items()}

    def parameter_counts(self) -> dict[str, int]:
        """Parameters shared, and what one single-task model per head would need in all."""
        trunk = sum(p.numel() for p in self.trunk.parameters())
        heads = sum(p.numel() for p in self.heads.parameters())
        return {"multitask": trunk + heads, "separate": trunk * len(self.heads) + heads}
