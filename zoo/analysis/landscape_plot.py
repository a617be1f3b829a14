"""The lecture's picture of the conditioning problem: optimiser paths over the contours of a
2-D quadratic, axis-aligned and rotated (`zoo.analysis.landscapes`)."""

from __future__ import annotations

from typing import Any

import torch

from zoo.analysis.landscapes import OPTIMIZERS, best_run, quadratic
from zoo.utils.figure_layout import OUTSIDE_RIGHT
from zoo.utils.plots import pyplot

COLORS = {"GD": "tab:blue", "momentum": "tab:orange", "RMSProp": "tab:green", "Adam": "tab:red"}


def paths_figure(kappa: float = 10.0, steps_shown: int = 60) -> Any:
    """Two panels (axis-aligned, rotated 45 degrees), each with the contours of f and the first
    `steps_shown` steps of every optimiser at its best hyper-parameters."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.4), layout="constrained")
    for ax, rotated in zip(axes, (False, True), strict=True):
        hessian, start = quadratic(kappa, rotated)
        span = float(start.abs().max()) * 1.3
        grid = torch.linspace(-span, span, 200, dtype=torch.float64)
        xx, yy = torch.meshgrid(grid, grid, indexing="xy")
        points = torch.stack([xx, yy], -1)
        f = 0.5 * ((points @ hessian) * points).sum(-1)
        levels = float(f.max()) * torch.logspace(-4, 0, 12).numpy()
        ax.contour(xx.numpy(), yy.numpy(), f.numpy(), levels=levels, colors="0.75", linewidths=0.8)
        for name in OPTIMIZERS:
            best = best_run(name, kappa, rotated)
            path = best.path[: steps_shown + 1].numpy()
            steps = best.steps if best.steps is not None else "> limit"
            ax.plot(*path.T, "-o", ms=2, lw=1, color=COLORS[name], label=f"{name} ({steps} steps)")
        ax.plot(0, 0, "k*", ms=10, label="optimum")
        frame = "rotated 45°" if rotated else "axis-aligned"
        ax.set_title(f"κ = {kappa:g}, valley {frame}")
        ax.set_xlabel("parameter x₁ (no unit)")
        ax.set_ylabel("parameter x₂ (no unit)")
        ax.set_aspect("equal")
        # beside the panel: the paths cross every corner of it
        ax.legend(title="optimiser\n(steps to 1e-6 of f(x₀))", fontsize=8, **OUTSIDE_RIGHT)
    fig.suptitle(
        "Conditioning: paths of GD, momentum, RMSProp and Adam on f(x) = xᵀHx/2, "
        "each at its best learning rate"
    )
    return fig
