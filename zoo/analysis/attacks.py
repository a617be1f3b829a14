"""Adversarial examples: backpropagation to the input (Szegedy et al. 2014). FGSM takes one step
along the sign of the input gradient (Goodfellow et al. 2015); PGD iterates it, projected back
into the epsilon ball (Madry et al. 2018). Works on any classifier whose `head` has a `loss`.

Inputs are the model's (standardised) inputs; `low` and `high` are what pixel values 0 and 1
map to (`zoo.utils.preprocessing.input_range`), and epsilon is an L-inf radius in pixel units:
0.1 moves every pixel by at most a tenth of the full intensity range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from zoo.blocks.heads import Head


def input_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The net's training loss (its head's, else cross-entropy) as a function of the input."""
    logits = net(x)
    head: Any = getattr(net, "head", None)  # any classifier: a head is optional
    return head.loss(logits, y) if hasattr(head, "loss") else F.cross_entropy(logits, y)


def input_gradient(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(input_loss(net, x, y), x)
    return gradient


def fgsm(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilon: float,
    low: torch.Tensor,
    high: torch.Tensor,
) -> torch.Tensor:
    """x + epsilon * sign(d loss / d x), clipped to the valid input range."""
    step = epsilon * (high - low) * input_gradient(net, x, y).sign()
    return (x + step).clamp(low, high).detach()


def pgd(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilon: float,
    low: torch.Tensor,
    high: torch.Tensor,
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
) -> torch.Tensor:
    """`steps` signed-gradient steps of `step_size` (default 2.5 epsilon / steps), each
    projected back into the L-inf ball of radius epsilon around x and the valid range."""
    if epsilon < 0 or steps < 1:
        raise ValueError(f"pgd needs epsilon >= 0 and steps >= 1, got {epsilon} and {steps}")
    scale = high - low
    radius, step = epsilon * scale, (step_size or 2.5 * epsilon / steps) * scale
    ball_low, ball_high = (x - radius).clamp(min=low), (x + radius).clamp(max=high)
    adversarial = x.detach()
    if random_start:
        adversarial = adversarial + (2 * torch.rand_like(x) - 1) * radius
    for _ in range(steps):
        adversarial = adversarial.clamp(ball_low, ball_high)
        adversarial = adversarial + step * input_gradient(net, adversarial, y).sign()
    return adversarial.clamp(ball_low, ball_high).detach()


def sign_noise(
    x: torch.Tensor, epsilon: float, low: torch.Tensor, high: torch.Tensor
) -> torch.Tensor:
    """Random +-epsilon on every pixel, clipped: noise of the same L-inf size as an attack."""
    noise = epsilon * (high - low) * (2 * torch.randint_like(x, 2) - 1)
    return (x + noise).clamp(low, high)


def robust_accuracy(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilons: list[float],
    low: torch.Tensor,
    high: torch.Tensor,
    pgd_steps: int = 10,
) -> dict[str, list[float]]:
    """Accuracy under random sign noise, FGSM and PGD at each epsilon (eval mode)."""
    net.eval()

    def accuracy(inputs: torch.Tensor) -> float:
        with torch.no_grad():
            return (cast("Head", net.head).predict(net(inputs)) == y).float().mean().item()

    curves: dict[str, list[float]] = {"noise": [], "fgsm": [], "pgd": []}
    for epsilon in epsilons:
        curves["noise"].append(accuracy(sign_noise(x, epsilon, low, high)))
        curves["fgsm"].append(accuracy(fgsm(net, x, y, epsilon, low, high)))
        curves["pgd"].append(accuracy(pgd(net, x, y, epsilon, low, high, pgd_steps)))
    return curves
