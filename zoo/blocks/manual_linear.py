"""A dense layer whose backward pass is written by hand.

The lecture's view of a module as Forward / Backward / Update: `LinearFunction` computes
y = x W^T + b, and its `backward` returns dL/dx, dL/dW and dL/db explicitly instead of
relying on autograd. `ManualLinear.update` is the plain gradient-descent step W <- W - lr dL/dW.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import nn

from zoo.utils.builder import register


class _LinearCtx(Protocol):
    """What `LinearFunction` uses of the autograd context it is given."""

    has_bias: bool
    saved_tensors: tuple[torch.Tensor, ...]

    def save_for_backward(self, *tensors: torch.Tensor | None) -> None: ...


class LinearFunction(torch.autograd.Function):
    """y = x W^T + b with an explicit backward."""

    @staticmethod
    def forward(
        ctx: _LinearCtx,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
    ) -> torch.Tensor:
        """x (..., in), weight (out, in), bias (out,) or None -> y (..., out)."""
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = x @ weight.T
        return y + bias if bias is not None else y

    @staticmethod
    def backward(
        ctx: _LinearCtx, grad_y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """dL/dy (..., out) -> (dL/dx, dL/dW, dL/db), by hand."""
        x, weight = ctx.saved_tensors
        grad_x = grad_y @ weight  # dL/dx = dL/dy W
        grad_w = grad_y.reshape(-1, grad_y.shape[-1]).T @ x.reshape(-1, x.shape[-1])  # dy/dW
        grad_b = grad_y.reshape(-1, grad_y.shape[-1]).sum(0) if ctx.has_bias else None
        return grad_x, grad_w, grad_b


@register()
class ManualLinear(nn.Module):
    """Drop-in for `nn.Linear` (same parameters, same init) using `LinearFunction`."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The same initialisation as `nn.Linear` (Kaiming-uniform weights)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., in_features) -> (..., out_features) through `LinearFunction`."""
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"ManualLinear expected input of shape (..., {self.in_features}), got {tuple(x.shape)}"
            )
        return LinearFunction.apply(x, self.weight, self.bias)

    @torch.no_grad()
    def update(self, lr: float) -> None:
        """Gradient-descent step on this layer's parameters: p <- p - lr * dL/dp."""
        for p in self.parameters():
            if p.grad is not None:
                p.sub_(lr * p.grad)  # what `p -= lr * p.grad` runs, in place

    def extra_repr(self) -> str:
        """The sizes, as `nn.Linear` prints them."""
        return f"in_features={self.in_features}, out_features={self.out_features}"
