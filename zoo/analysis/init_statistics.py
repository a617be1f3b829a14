"""What an initialisation does to a deep net before any training: the standard deviation of
every linear layer's output (forward signal) and of its weight gradient (backward signal)
on one batch. Vanishing or exploding shows as a geometric fall or rise across depth
(Glorot & Bengio 2010, Fig. 6-7; He et al. 2015, Sec. 2.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
from torch import nn

if TYPE_CHECKING:
    from zoo.blocks.heads import Head


def layer_statistics(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor
) -> tuple[list[float], list[float]]:
    """(std of each linear layer's output, std of each linear layer's weight gradient), in
    the order the layers run, from one forward and backward pass of `net`'s head loss."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    outputs: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out)) for m in linears]
    was_training = net.training
    net.train()
    net.zero_grad(set_to_none=True)
    try:
        cast("Head", net.head).loss(net(x), y).backward()
    finally:
        for hook in hooks:
            hook.remove()
        net.train(was_training)
    activations = [float(out.detach().std()) for out in outputs]
    gradients = [float(m.weight.grad.std()) if m.weight.grad is not None else 0.0 for m in linears]
    net.zero_grad(set_to_none=True)
    return activations, gradients
