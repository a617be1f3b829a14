"""The conditioning problem in numbers and one picture: GD, heavy-ball momentum, RMSProp and
Adam on 2-D quadratics of condition number kappa, axis-aligned and rotated.

    python -m zoo.conditioning [--out logs/conditioning]

Prints the steps each optimiser needs to reach 1e-6 of f(x0) at its best hyper-parameters
from a grid, the log-log slopes of steps against kappa (GD ~1, momentum ~1/2), and the ratio
of steps at a large kappa to kappa=1 for the diagonal preconditioners (RMSProp, Adam);
writes the table (`conditioning.md`) and the paths (`conditioning.png`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.analysis.landscapes import KAPPAS, OPTIMIZERS, best_run, loglog_slope
from zoo.cli.common import markdown_table, or_exit

SLOPE_KAPPAS = (10, 31.6, 100, 316, 1000)  # past kappa=1, where one step of GD is exact


def steps_to_optimum(name: str, kappa: float, rotated: bool) -> int:
    """The steps of `best_run(name, kappa, rotated)`; a TypeError if no run of its grid
    reached the optimum (as arithmetic on the missing count would raise)."""
    steps = best_run(name, kappa, rotated).steps
    if steps is None:
        raise TypeError(f"{name} at kappa={kappa}: no run of its grid reached the optimum")
    return steps


def slopes() -> dict[str, float]:
    """Fitted slope of log(steps) on log(kappa) for GD and heavy-ball momentum."""
    return {
        name: loglog_slope(
            list(SLOPE_KAPPAS), [steps_to_optimum(name, k, False) for k in SLOPE_KAPPAS]
        )
        for name in ("GD", "momentum")
    }


def preconditioning(kappa: float) -> dict[str, dict[str, float]]:
    """Steps at `kappa` over steps at kappa=1, per frame, for RMSProp and Adam."""
    return {
        name: {
            frame: steps_to_optimum(name, kappa, rotated) / steps_to_optimum(name, 1, rotated)
            for frame, rotated in (("axis-aligned", False), ("rotated", True))
        }
        for name in ("RMSProp", "Adam")
    }


def table() -> str:
    rows = []
    for name in OPTIMIZERS:
        for frame, rotated in (("axis-aligned", False), ("rotated", True)):
            cells = []
            for kappa in KAPPAS:
                best = best_run(name, kappa, rotated)
                cells.append(f"{best.steps} (lr {best.lr:.3g})" if best.steps else "none")
            rows.append([name, frame, *cells])
    return markdown_table(["optimiser", "valley", *(f"κ={k}" for k in KAPPAS)], rows)


def main(argv: list[str] | None = None) -> None:
    from zoo.analysis.landscape_plot import paths_figure

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("logs/conditioning"), help="folder")
    args = parser.parse_args(argv)
    or_exit(lambda: args.out.mkdir(parents=True, exist_ok=True))
    steps = table()
    fitted = slopes()
    ratios = {k: preconditioning(k) for k in (100, 1000)}
    lines = [
        "Steps to f(x) <= 1e-6 f(x0), best hyper-parameters of each optimiser's grid:",
        "",
        steps,
        "",
        "log-log slope of steps against kappa (10 to 1000): "
        + ", ".join(f"{n} {s:.2f}" for n, s in fitted.items()),
        "",
        "steps at kappa / steps at kappa=1 (diagonal preconditioning undoes an axis-aligned kappa):",
    ]
    for kappa, by_name in ratios.items():
        for name, by_frame in by_name.items():
            lines.append(
                f"- {name}, kappa={kappa}: "
                + ", ".join(f"{frame} {r:.2f}" for frame, r in by_frame.items())
            )
    report = "\n".join(lines)
    print(report)
    (args.out / "conditioning.md").write_text(report + "\n")
    figure = paths_figure()
    figure.savefig(args.out / "conditioning.png", dpi=120)
    print(f"\nwrote {args.out / 'conditioning.md'} and {args.out / 'conditioning.png'}")
