"""Compare the runs of a multirun: one PNG and a table of final metrics.

    python train.py -m experiment=optimizers_digits
    zoo-compare-runs logs/optimizers_digits/multiruns/<time>       # train/loss per epoch
    zoo-compare-runs logs/depth_digits/multiruns/<time> --metric test/acc \\
        --x model.backbone.depth --group model.backbone.kind                  # final value vs depth
    zoo-compare-runs logs/batch_size_digits/multiruns/<time> --metric val/acc \\
        --over time/train_s --target 0.95     # by epoch and by seconds; when each reached 0.95

Runs are labelled by the overrides that differ between them (e.g. `optimizer=momentum`); the
values come from the CSV logger's `metrics.csv`.
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.cli.common import markdown_table, or_exit
from zoo.utils.figure_layout import OUTSIDE_RIGHT, whole_numbers
from zoo.utils.plots import pyplot


@dataclass
class Run:
    overrides: dict[str, str]  # every command-line override of the run
    label: str  # the overrides that differ between the runs of the sweep
    epochs: list[dict[str, float]]  # one row of logged values per epoch

    @property
    def final(self) -> dict[str, float]:
        """The last logged value of every metric (test metrics come after the last epoch)."""
        return {k: v for row in self.epochs for k, v in row.items() if "/" in k}


def read_overrides(run_dir: Path) -> dict[str, str]:
    """The command-line overrides Hydra recorded for one run, as key -> value."""
    path = run_dir / ".hydra" / "overrides.yaml"
    lines = (
        [ln.removeprefix("- ").strip() for ln in path.read_text().splitlines()]
        if path.exists()
        else []
    )
    return dict(ln.split("=", 1) for ln in lines if "=" in ln)


def read_epochs(run_dir: Path) -> list[dict[str, float]]:
    """One row of logged metrics per epoch, from the CSV logger's metrics.csv."""
    metrics_file = next(run_dir.rglob("metrics.csv"), None)
    if metrics_file is None:
        raise FileNotFoundError(
            f"no metrics.csv under {run_dir}: was the run logged with logger=csv?"
        )
    by_epoch: dict[int, dict[str, float]] = {}
    with metrics_file.open() as f:
        for row in csv.DictReader(f):
            epoch = int(row["epoch"])
            values = {k: float(v) for k, v in row.items() if v not in ("", None) and k != "epoch"}
            by_epoch.setdefault(epoch, {"epoch": epoch}).update(values)
    return [by_epoch[e] for e in sorted(by_epoch)]


def read_runs(sweep_dir: Path) -> list[Run]:
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"{sweep_dir}: no such folder; expected a multirun directory")
    run_dirs = sorted(
        (d for d in sweep_dir.iterdir() if (d / ".hydra").is_dir()),
        key=lambda d: int(d.name) if d.name.isdigit() else d.name,
    )
    if not run_dirs:
        raise FileNotFoundError(f"no runs (folders with .hydra/) under {sweep_dir}")
    overrides = [read_overrides(d) for d in run_dirs]
    common = set.intersection(*(set(o.items()) for o in overrides))
    return [
        Run(
            o,
            " ".join(f"{k}={v}" for k, v in o.items() if (k, v) not in common) or d.name,
            read_epochs(d),
        )
        for d, o in zip(run_dirs, overrides, strict=True)
    ]


def plot_curves(ax, runs: list[Run], metric: str, over: str = "epoch") -> None:
    """`metric` against `over` (the epoch, or a logged value such as time/train_s), one line
    per run."""
    for run in runs:
        points = [(r[over], r[metric]) for r in run.epochs if metric in r and over in r]
        if not points:
            raise KeyError(f"metric {metric!r} (against {over!r}) not logged in run {run.label!r}")
        ax.plot(*zip(*points, strict=True), label=run.label)
    seconds = over.endswith("_s")  # times span orders of magnitude across batch sizes
    ax.set(
        xlabel=f"{over} (seconds, log scale)" if seconds else over,
        xscale="log" if seconds else "linear",
        ylabel=metric,
        yscale="log" if "loss" in metric else "linear",
    )
    if over == "epoch":
        ax.xaxis.set_major_locator(whole_numbers())


def reached(run: Run, metric: str, target: float, over: str) -> float:
    """The first value of `over` at which `metric` reached `target` (fell to it, for a loss),
    or nan if it never did (`reached_cell` writes that as `never`)."""
    for row in run.epochs:
        if metric in row and over in row:
            value = row[metric]
            if (value <= target) if "loss" in metric else (value >= target):
                return row[over] + (1 if over == "epoch" else 0)  # epochs trained, from 1
    return float("nan")


def reached_cell(value: float) -> float | str:
    """A table cell for `reached`: the value, or `never` where the run never reached it."""
    return "never" if math.isnan(value) else value


def plot_against(ax, runs: list[Run], metric: str, x: str, group: str | None) -> None:
    """The final `metric` against the numeric override `x`, one line per value of `group`;
    runs that share both (e.g. seeds) are averaged into one point."""
    lines: dict[str, dict[float, list[float]]] = {}
    for run in runs:
        if x not in run.overrides or metric not in run.final:
            raise KeyError(f"run {run.label!r} lacks override {x!r} or metric {metric!r}")
        name = f"{group}={run.overrides.get(group)}" if group else metric
        lines.setdefault(name, {}).setdefault(float(run.overrides[x]), []).append(run.final[metric])
    for name, points in lines.items():
        xs = sorted(points)
        repeats = {len(points[v]) for v in xs}
        label = name if repeats == {1} else f"{name} (mean of {max(repeats)})"
        ax.plot(xs, [sum(points[v]) / len(points[v]) for v in xs], marker="o", label=label)
    ax.set(xlabel=x, ylabel=f"final {metric}")


def sweep_title(sweep_dir: Path, metric: str, x: str | None) -> str:
    """What the plot shows: `optimizers_digits: train/loss by epoch, one line per run` (a
    sweep folder is logs/<experiment>/multiruns/<time>)."""
    experiment = sweep_dir.parent.parent.name or sweep_dir.name
    shown = f"final {metric} against {x}" if x else f"{metric} by epoch, one line per run"
    return f"{experiment}: {shown}"


def sweep_figure(
    runs: list[Run],
    title: str,
    metric: str,
    x: str | None = None,
    group: str | None = None,
    over: str | None = None,
) -> Any:
    """`metric` by epoch (or against the override `x`), and against the logged `over` in a
    second panel when given; each legend beside its panel, off the curves."""
    plt = pyplot()
    size = (15 if over else 9, 4)
    fig, axes = plt.subplots(1, 2 if over else 1, figsize=size, squeeze=False, layout="constrained")
    ax = axes[0, 0]
    if x:
        plot_against(ax, runs, metric, x, group)
    else:
        plot_curves(ax, runs, metric)
    ax.set_title(title)
    beside_legend(ax)
    if over:
        plot_curves(axes[0, 1], runs, metric, over)
        axes[0, 1].set_title(f"{metric} against {over}")
        beside_legend(axes[0, 1])
    return fig


def beside_legend(ax, rows: int = 14) -> None:
    """A legend beside `ax`, in as many columns of `rows` entries as a large sweep needs to
    stay within the figure's height."""
    entries = len(ax.get_legend_handles_labels()[1])
    ax.legend(fontsize=8, ncols=max(1, math.ceil(entries / rows)), **OUTSIDE_RIGHT)


def compare(
    sweep_dir: Path,
    metric: str = "train/loss",
    x: str | None = None,
    group: str | None = None,
    over: str | None = None,
    target: float | None = None,
) -> tuple[Path, str]:
    """Write the plot and `summary.md` into `sweep_dir`; return the plot's path and the table.
    `over` adds a second panel, `metric` against that logged value; `target` adds the epoch
    (and the `over` value) at which each run first reached it to the table."""
    runs = read_runs(sweep_dir)
    fig = sweep_figure(runs, sweep_title(sweep_dir, metric, x), metric, x, group, over)
    plot = sweep_dir / (
        metric.replace("/", "_") + (f"_vs_{x.split('.')[-1]}" if x else "") + ".png"
    )
    fig.savefig(plot, dpi=120)
    pyplot().close(fig)

    columns = sorted({k for run in runs for k in run.final})
    nan = float("nan")
    rows = [[r.label, *(r.final.get(c, nan) for c in columns)] for r in runs]
    if target is not None:
        to_target = ["epoch", *([over] if over else [])]
        columns += [f"{o} to {metric} {target}" for o in to_target]
        for row, run in zip(rows, runs, strict=True):
            row += [reached_cell(reached(run, metric, target, o)) for o in to_target]
    summary = markdown_table(["run", *columns], rows, digits=4)
    (sweep_dir / "summary.md").write_text(summary + "\n")
    return plot, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="a multirun directory written by train.py -m")
    parser.add_argument("--metric", default="train/loss", help="what to plot (default: train/loss)")
    parser.add_argument("--x", default=None, help="plot the final metric against this override")
    parser.add_argument(
        "--group", default=None, help="with --x: one line per value of this override"
    )
    parser.add_argument(
        "--over", default=None, help="a second panel: the metric against this logged value"
    )
    parser.add_argument(
        "--target", type=float, default=None, help="tabulate when each run reached this value"
    )
    args = parser.parse_args(argv)
    plot, summary = or_exit(
        lambda: compare(args.sweep_dir, args.metric, args.x, args.group, args.over, args.target)
    )
    print(summary)
    print(f"plot: {plot}")


if __name__ == "__main__":
    main()
