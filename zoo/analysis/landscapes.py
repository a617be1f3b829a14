"""The conditioning problem on 2-D quadratics: how GD, heavy-ball momentum, RMSProp and Adam
cope with a condition number kappa, axis-aligned or rotated 45 degrees.

f(x) = x^T H x / 2 with H = R diag(1, kappa) R^T: GD needs ~kappa steps (Nesterov 2004,
Thm 2.1.15), heavy-ball momentum ~sqrt(kappa) (Polyak 1964); RMSProp (Tieleman & Hinton 2012)
and Adam (Kingma & Ba 2015) rescale each coordinate, which undoes kappa when the valley lies
along the axes (R = I) and not when it is rotated: the "physical units" of each coordinate.

Each optimiser runs for a whole grid of learning rates (and momenta, and decays of the step,
which RMSProp and Adam need to settle instead of hovering) at once, vectorised over the grid:
rows of `x` are independent runs. `tests/test_conditioning.py` checks each update rule against
torch.optim's.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

KAPPAS = (1, 10, 100)
TOLERANCE = 1e-6  # f(x_t) <= TOLERANCE * f(x_0): "reached the optimum"
START = (1.0, 0.4)  # in the eigenbasis of H, so both frames pose the same problem
LRS = torch.logspace(-3, 1, 41, dtype=torch.float64)
MOMENTA = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
DECAYS = (1.0, 0.999, 0.998, 0.995, 0.99, 0.98, 0.95, 0.9)  # step size x decay each step
OPTIMIZERS = ("GD", "momentum", "RMSProp", "Adam")


def quadratic(kappa: float, rotated: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """H = R diag(1, kappa) R^T and the start R (1, 1), R a 45-degree rotation or I."""
    angle = math.pi / 4 if rotated else 0.0
    c, s = math.cos(angle), math.sin(angle)
    rotation = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    hessian = rotation @ torch.diag(torch.tensor([1.0, kappa], dtype=torch.float64)) @ rotation.T
    return hessian, rotation @ torch.tensor(START, dtype=torch.float64)


@dataclass
class Grid:
    """One run per row: its learning rate, momentum (beta1 for Adam) and step decay."""

    lr: torch.Tensor
    momentum: torch.Tensor
    decay: torch.Tensor

    def __len__(self) -> int:
        return len(self.lr)


def grid(optimizer: str) -> Grid:
    """The hyper-parameters each optimiser is tried with: learning rates for all, momenta for
    heavy ball, step decays for RMSProp and Adam (Adam's betas are its defaults)."""
    momenta = MOMENTA if optimizer == "momentum" else (0.9 if optimizer == "Adam" else 0.0,)
    decays = DECAYS if optimizer in ("RMSProp", "Adam") else (1.0,)
    rows = [(lr, m, d) for lr in LRS.tolist() for m in momenta for d in decays]
    lr, momentum, decay = (torch.tensor(c, dtype=torch.float64) for c in zip(*rows, strict=True))
    return Grid(lr, momentum, decay)


def run(
    optimizer: str, hessian: torch.Tensor, start: torch.Tensor, g: Grid, steps: int
) -> tuple[int | None, int, torch.Tensor]:
    """Run every row of the grid until the first one reaches the optimum (no later row could
    beat it): (its step, or None if none did within `steps`; its row; the path of every row
    so far, (steps + 1, runs, 2))."""
    x = start.expand(len(g), 2).clone()
    first = torch.zeros_like(x)  # momentum buffer / Adam's first moment
    second = torch.zeros_like(x)  # RMSProp's and Adam's mean square
    f0 = float(0.5 * start @ hessian @ start)
    lr, beta, decay = g.lr[:, None], g.momentum[:, None], g.decay[:, None]
    path = [x]
    for t in range(1, steps + 1):
        grad = x @ hessian
        if optimizer == "GD":
            update = grad
        elif optimizer == "momentum":  # torch.optim.SGD's heavy ball: v = beta v + g
            first = beta * first + grad
            update = first
        elif optimizer == "RMSProp":  # torch.optim.RMSprop: alpha 0.99, eps 1e-8
            second = 0.99 * second + 0.01 * grad**2
            update = grad / (second.sqrt() + 1e-8)
        else:  # torch.optim.Adam: betas (beta, 0.999), eps 1e-8
            first = beta * first + (1 - beta) * grad
            second = 0.999 * second + 0.001 * grad**2
            update = (first / (1 - beta**t)) / ((second / (1 - 0.999**t)).sqrt() + 1e-8)
        x = (x - lr * decay ** (t - 1) * update).clamp(-1e6, 1e6).nan_to_num(1e6)
        path.append(x)
        loss = 0.5 * ((x @ hessian) * x).sum(1)
        hit = torch.nonzero(loss <= TOLERANCE * f0)
        if len(hit):
            return t, int(hit[0, 0]), torch.stack(path)
    return None, 0, torch.stack(path)


@dataclass
class Best:
    """An optimiser's best run on one quadratic: its steps and hyper-parameters."""

    steps: int | None  # None: no run of the grid reached the optimum
    lr: float
    momentum: float
    decay: float
    path: torch.Tensor  # (steps + 1, 2)


@functools.cache  # the table, the slopes, the ratios and the figure ask for the same runs
def best_run(optimizer: str, kappa: float, rotated: bool, steps: int = 20_000) -> Best:
    """The fewest steps to the optimum over the optimiser's grid (ties: the smallest
    learning rate)."""
    hessian, start = quadratic(kappa, rotated)
    g = grid(optimizer)
    found, i, path = run(optimizer, hessian, start, g, steps)
    return Best(found, float(g.lr[i]), float(g.momentum[i]), float(g.decay[i]), path[:, i])


def loglog_slope(kappas: list[float], steps: list[int]) -> float:
    """The least-squares slope of log(steps) against log(kappa)."""
    x = torch.log(torch.tensor(kappas, dtype=torch.float64))
    y = torch.log(torch.tensor(steps, dtype=torch.float64))
    x, y = x - x.mean(), y - y.mean()
    return float((x * y).sum() / (x * x).sum())
