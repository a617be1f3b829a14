"""Compare the runs of a multirun: one PNG and a table of final metrics.

    python train.py -m experiment=optimizers_digits
    zoo-compare-runs logs/optimizers_digits/multiruns/<time>       # train/loss per epoch
    zoo-compare-runs logs/depth_digits/multiruns/<time> --metric test/acc \\
        --x model.backbone.depth --group model.backbone.kind                  # final value vs depth

Runs are labelled by the overrides that differ between them (e.g. `optimizer=momentum`); the
values come from the CSV logger's `metrics.csv`.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

from zoo.cli.common import markdown_table, or_exit
from zoo.plots import pyplot


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


def plot_curves(ax, runs: list[Run], metric: str) -> None:
    """`metric` per epoch, one line per run."""
    for run in runs:
        points = [(r["epoch"], r[metric]) for r in run.epochs if metric in r]
        if not points:
            raise KeyError(f"metric {metric!r} not logged in run {run.label!r}")
        ax.plot(*zip(*points, strict=True), label=run.label)
    ax.set(xlabel="epoch", ylabel=metric, yscale="log" if "loss" in metric else "linear")


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


def compare(
    sweep_dir: Path, metric: str = "train/loss", x: str | None = None, group: str | None = None
) -> tuple[Path, str]:
    """Write the plot and `summary.md` into `sweep_dir`; return the plot's path and the table."""
    plt = pyplot()

    runs = read_runs(sweep_dir)
    fig, ax = plt.subplots(figsize=(6, 4))
    if x:
        plot_against(ax, runs, metric, x, group)
    else:
        plot_curves(ax, runs, metric)
    ax.set_title(sweep_title(sweep_dir, metric, x))
    ax.legend()
    fig.tight_layout()
    plot = sweep_dir / (
        metric.replace("/", "_") + (f"_vs_{x.split('.')[-1]}" if x else "") + ".png"
    )
    fig.savefig(plot, dpi=120)
    plt.close(fig)

    columns = sorted({k for run in runs for k in run.final})
    nan = float("nan")
    rows = [[r.label, *(r.final.get(c, nan) for c in columns)] for r in runs]
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
    args = parser.parse_args(argv)
    plot, summary = or_exit(lambda: compare(args.sweep_dir, args.metric, args.x, args.group))
    print(summary)
    print(f"plot: {plot}")


if __name__ == "__main__":
    main()
