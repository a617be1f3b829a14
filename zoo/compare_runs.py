"""Compare the runs of a multirun: one PNG of their loss curves and a table of final metrics.

    python train.py -m experiment=optimizers_digits
    python -m zoo.compare_runs logs/optimizers_digits/multiruns/<time> [--metric train/loss]

Each run is labelled by its command-line overrides (e.g. `optimizer=momentum`); the curves come
from the CSV logger's `metrics.csv`, one value per epoch.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path


def read_overrides(run_dir: Path) -> list[str]:
    """The command-line overrides Hydra recorded for one run (`optimizer=adam`, ...)."""
    overrides = run_dir / ".hydra" / "overrides.yaml"
    lines = overrides.read_text().splitlines() if overrides.exists() else []
    return [ln.removeprefix("- ").strip() for ln in lines if ln.strip()]


def read_metrics(run_dir: Path) -> list[dict[str, float]]:
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


def read_runs(sweep_dir: Path) -> list[tuple[str, list[dict[str, float]]]]:
    """(label, epoch rows) per run; a label lists the overrides that differ between runs."""
    run_dirs = sorted(
        (d for d in sweep_dir.iterdir() if (d / ".hydra").is_dir()), key=lambda d: d.name
    )
    if not run_dirs:
        raise FileNotFoundError(f"no runs (folders with .hydra/) under {sweep_dir}")
    overrides = [read_overrides(d) for d in run_dirs]
    common = set.intersection(*(set(o) for o in overrides))
    return [
        (" ".join(o for o in over if o not in common) or d.name, read_metrics(d))
        for d, over in zip(run_dirs, overrides, strict=True)
    ]


def compare(sweep_dir: Path, metric: str = "train/loss") -> tuple[Path, str]:
    """Write `<sweep_dir>/<metric>.png` and `summary.md`; return the plot's path and the table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = read_runs(sweep_dir)
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, rows in runs:
        points = [(r["epoch"], r[metric]) for r in rows if metric in r]
        if not points:
            raise KeyError(f"metric {metric!r} not logged in run {label!r}")
        ax.plot(*zip(*points, strict=True), label=label)
    ax.set(xlabel="epoch", ylabel=metric, yscale="log", title=sweep_dir.name)
    ax.legend()
    fig.tight_layout()
    plot = sweep_dir / f"{metric.replace('/', '_')}.png"
    fig.savefig(plot, dpi=120)
    plt.close(fig)

    columns = sorted({k for _, rows in runs for k in rows[-1] if "/" in k})
    table = [
        "| run | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
        *(
            f"| {label} | "
            + " | ".join(f"{rows[-1].get(c, float('nan')):.4f}" for c in columns)
            + " |"
            for label, rows in runs
        ),
    ]
    summary = "\n".join(table)
    (sweep_dir / "summary.md").write_text(summary + "\n")
    return plot, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="a multirun directory written by train.py -m")
    parser.add_argument(
        "--metric", default="train/loss", help="the curve to plot (default: train/loss)"
    )
    args = parser.parse_args(argv)
    try:
        plot, summary = compare(args.sweep_dir, args.metric)
    except (FileNotFoundError, KeyError) as error:
        raise SystemExit(f"error: {error}") from None
    print(summary)
    print(f"plot: {plot}")


if __name__ == "__main__":
    main()
