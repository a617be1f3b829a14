"""Retrain shipped weights from the command on their card and compare every metric on it.

    zoo-reproduce                              # every shipped card, as CI runs it
    zoo-reproduce cnn.digits vae.digits        # some of them
    zoo-reproduce --record-spread              # seeds 0-2: each card's seed spread, into the card
    zoo-reproduce --record-spread --replace-shipped   # ... and ship each card's seed-0 run

Each card is retrained on the CPU from a clean run folder, with the exact overrides its command
records (and `seed=N`), then scored by the evaluation that wrote the card (`zoo-eval` on the
run's best checkpoint). A metric reproduces when it lies within the card's tolerance of the
shipped value: twice the standard deviation of that metric over seeds 0-2, measured by
`--record-spread` and kept in the card as `seed_spread`. A card without a measured spread fails.
The cards train in worker processes, one per core by default (Lightning and the data imported
once per worker, not once per card), and the table is written to `reproduce.md`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.cli.common import markdown_table, positive_int
from zoo.registry.files import CARD, CONFIG, WEIGHTS, read_card
from zoo.registry.lineage import stale_dependencies
from zoo.registry.names import REGISTRY, list_pretrained, model_card
from zoo.utils.atomic import write_text_atomic

SPREAD_KEY = "seed_spread"
SPREAD_SEEDS = (0, 1, 2)
TOLERANCE_STDS = 2.0
"""A reproduced metric may differ from the shipped one by this many seed-to-seed standard
deviations (sample std over seeds 0-2), the margin every threshold of the suite keeps."""
TABLE_HEADER = ("card", "metric", "shipped", "reproduced", "tolerance", "within", "seconds")


@dataclass(frozen=True)
class Retrained:
    """One card trained again: the metrics its evaluation gives and where the time went."""

    name: str
    seed: int
    metrics: dict[str, float]
    train_seconds: float
    evaluate_seconds: float
    model_dir: str = ""

    @property
    def seconds(self) -> float:
        return self.train_seconds + self.evaluate_seconds


@dataclass(frozen=True)
class Comparison:
    """One metric of a card, shipped against reproduced."""

    card: str
    metric: str
    shipped: float
    reproduced: float | None
    tolerance: float | None
    seconds: float = 0.0
    reason: str = field(default="")

    @property
    def within(self) -> bool:
        if self.reproduced is None or self.tolerance is None:
            return False
        return abs(self.reproduced - self.shipped) <= self.tolerance


def card_overrides(card: dict[str, Any]) -> list[str]:
    """The overrides of the card's command, `python train.py <overrides>`; a card whose command
    is not a train.py run cannot be reproduced."""
    words = shlex.split(card.get("command") or "")
    if words[:2] != ["python", "train.py"]:
        raise ValueError(
            f"{card['name']}: command {card.get('command')!r}; expected `python train.py ...`"
        )
    return words[2:]


def retrain(name: str, seed: int, folder: Path, data_dir: str | None = None) -> Retrained:
    """Train the card `name` again from its command with `seed` (seed 0, the default, is the
    card's own), in the empty `folder`, and publish the run's best checkpoint as the card was
    published (`zoo-publish`: its test metrics by `zoo-eval`) into `folder/registry/name`."""
    from omegaconf import open_dict

    from zoo.cli.publish import publish
    from zoo.training.console import quiet_lightning
    from zoo.training.run import compose, train

    run = folder / "run"
    overrides = card_overrides(model_card(name)) + ([f"seed={seed}"] if seed else [])
    cfg = compose(overrides, run)
    with open_dict(cfg):  # what a run shows and where it reads, never what it trains
        cfg.trainer.enable_progress_bar = False
        if data_dir is not None:
            cfg.paths.data_dir = data_dir
    quiet_lightning()
    start = time.perf_counter()
    train(cfg)
    trained = time.perf_counter()
    card = publish(run, name, registry=folder / "registry")
    scored = time.perf_counter()
    model_dir = str(folder / "registry" / name)
    return Retrained(name, seed, card["metrics"], trained - start, scored - trained, model_dir)


def replace_shipped(run: Retrained, registry: Path = REGISTRY) -> None:
    """Ship the weights and card of a seed-0 retraining in place of `run.name`'s, keeping the
    card's measured seed spread: the shipped cards are the tier's own runs."""
    if run.seed != 0:
        raise ValueError(f"{run.name}: seed {run.seed}; a card ships the run of seed 0")
    target = registry / run.name
    spread = json.loads((target / CARD).read_text()).get(SPREAD_KEY)
    for file in (CONFIG, WEIGHTS, CARD):
        shutil.copyfile(Path(run.model_dir) / file, target / file)
    if spread:
        card = json.loads((target / CARD).read_text())
        write_text_atomic(target / CARD, json.dumps(card | {SPREAD_KEY: spread}, indent=2) + "\n")


def ship_all(runs: Sequence[Retrained], registry: Path = REGISTRY) -> list[str]:
    """Ship the seed-0 runs, those that load no shipped weights first (the teachers): a run
    made with weights that have since been replaced is held back, since it learned from the old
    ones. Returns why each held run was held, a line each."""
    held = []
    for run in sorted(runs, key=lambda r: bool(read_card(Path(r.model_dir)).get("depends_on"))):
        stale = stale_dependencies(read_card(Path(run.model_dir)))
        if stale:
            held += stale
        else:
            replace_shipped(run, registry)
    return held


def tolerance(card: dict[str, Any], metric: str) -> float | None:
    """The card's tolerance for `metric`: `TOLERANCE_STDS` times its measured seed spread, or
    None when none was measured."""
    spread = (card.get(SPREAD_KEY) or {}).get("metrics", {}).get(metric)
    return None if spread is None else TOLERANCE_STDS * spread["std"]


def compare(
    card: dict[str, Any], retrained: Retrained | None, reason: str = ""
) -> list[Comparison]:
    """Every metric on the card against its reproduction (None: the card did not train)."""
    rows = []
    for metric, shipped in card["metrics"].items():
        reproduced = None if retrained is None else retrained.metrics.get(metric)
        seconds = 0.0 if retrained is None else retrained.seconds
        allowed = tolerance(card, metric)
        why = reason or ("" if allowed is not None else "no seed spread")
        rows.append(Comparison(card["name"], metric, shipped, reproduced, allowed, seconds, why))
    return rows


def table(rows: Iterable[Comparison]) -> str:
    """The markdown table of `reproduce.md`: card, metric, shipped, reproduced, tolerance,
    whether it is within, seconds (of the card's training and evaluation)."""

    def number(value: float | None, reason: str = "") -> Any:
        return reason or "-" if value is None else round(value, 4)

    return markdown_table(
        TABLE_HEADER,
        (
            (
                r.card,
                r.metric,
                round(r.shipped, 4),
                number(r.reproduced, r.reason),
                number(r.tolerance, r.reason),
                "yes" if r.within else "**no**",
                round(r.seconds),
            )
            for r in rows
        ),
        digits=4,
    )


def spread_record(runs: Sequence[Retrained]) -> dict[str, Any]:
    """A card's seed spread from its runs on seeds 0-2: each metric's values and sample std,
    the seconds each took, and when and at which commit it was measured."""
    names = runs[0].metrics
    return {
        "seeds": [r.seed for r in runs],
        "metrics": {
            m: {
                "values": [r.metrics[m] for r in runs],
                "std": statistics.stdev(r.metrics[m] for r in runs),
            }
            for m in names
        },
        "seconds": [round(r.seconds, 1) for r in runs],
        "measured": datetime.date.today().isoformat(),
        "commit": commit(),
    }


def commit() -> str:
    """The checkout's commit, marked when its code holds changes not yet committed (the shipped
    cards, which measuring writes, aside); `unknown` outside a git clone."""

    def git(*args: str) -> str:
        found = subprocess.run(
            ["git", *args], cwd=REGISTRY, capture_output=True, text=True, check=True
        )
        return found.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--", ":/", ":!.")  # cwd: the registry
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if changed else "")


def record_spread(name: str, runs: Sequence[Retrained], registry: Path = REGISTRY) -> None:
    """Write the spread of `runs` into the card of `name` (the card alone: weights and config,
    which its sha256 seal, are untouched)."""
    path = registry / name / "card.json"
    card = json.loads(path.read_text())
    card[SPREAD_KEY] = spread_record(sorted(runs, key=lambda r: r.seed))
    write_text_atomic(path, json.dumps(card, indent=2) + "\n")


def expected_seconds(name: str) -> float:
    """How long the card took to retrain when its spread was measured (0 if never): the
    longest trainings are started first."""
    return max((model_card(name).get(SPREAD_KEY) or {}).get("seconds") or [0.0])


def _worker_start(threads: int) -> None:
    import torch

    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)


def _retrain_job(name: str, seed: int, folder: Path, data_dir: str | None) -> Retrained:
    done = retrain(name, seed, folder / f"{name}-{seed}", data_dir)
    print(f"{name} seed {seed}: {done.seconds:.0f} s", file=sys.stderr, flush=True)
    return done


def retrain_all(
    names: Sequence[str],
    seeds: Sequence[int],
    workers: int,
    folder: Path,
    data_dir: str | None = None,
) -> list[Retrained]:
    """Every (card, seed) retrained in `workers` processes, each with its share of the cores,
    longest first, into `folder/<name>-<seed>` (where the runs' published weights stay)."""
    import multiprocessing

    jobs = sorted(((n, s) for n in names for s in seeds), key=lambda j: -expected_seconds(j[0]))
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited state
    with ProcessPoolExecutor(workers, context, _worker_start, (threads,)) as pool:
        futures = [pool.submit(_retrain_job, name, seed, folder, data_dir) for name, seed in jobs]
        return [f.result() for f in futures]


def report(
    runs: Sequence[Retrained], record: bool = False, replace: bool = False
) -> list[Comparison]:
    """The comparisons of the seed-0 runs with their cards, after writing each card's spread
    over its runs on seeds 0-2 into the card (`record`) and shipping the seed-0 runs in place
    of the cards (`replace`)."""
    runs = list({(run.name, run.seed): run for run in reversed(runs)}.values())  # once each
    names = sorted({run.name for run in runs})
    if record:
        for name in names:
            record_spread(name, [r for r in runs if r.name == name])
    by_name = {run.name: run for run in runs if run.seed == 0}
    if replace:
        for held in ship_all(list(by_name.values())):
            print(f"not shipped: {held}", file=sys.stderr)
    return [row for name in names for row in compare(model_card(name), by_name.get(name))]


def write_table(rows: Sequence[Comparison], path: Path) -> str:
    """`reproduce.md`: the table, with the commit it was measured at; returns the table."""
    text = table(rows)
    write_text_atomic(path, f"# Reproduced cards (seed 0, commit {commit()})\n\n{text}\n")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="cards to retrain (default: every shipped one)")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=min(2, os.cpu_count() or 1),
        help="training processes (default: one per core, at most 2)",
    )
    parser.add_argument("--table", type=Path, default=Path("reproduce.md"))
    parser.add_argument("--data-dir", default=None, help="where datasets live (default: data)")
    parser.add_argument(
        "--record-spread",
        action="store_true",
        help="train seeds 0, 1 and 2 and write each metric's spread into the card",
    )
    parser.add_argument(
        "--replace-shipped",
        action="store_true",
        help="ship each card's seed-0 run in place of its weights and card (after --record-spread)",
    )
    args = parser.parse_args(argv)
    names = args.names or list_pretrained()
    unknown = [name for name in names if name not in list_pretrained()]
    if unknown:
        parser.error(f"{', '.join(unknown)}: no such card; expected names of zoo.list_pretrained()")
    seeds = SPREAD_SEEDS if args.record_spread else (0,)
    with tempfile.TemporaryDirectory(prefix="zoo-reproduce-") as folder:
        runs = retrain_all(names, seeds, args.workers, Path(folder), args.data_dir)
        rows = report(runs, record=args.record_spread, replace=args.replace_shipped)
    print(write_table(rows, args.table))
    failed = sorted({r.card for r in rows if not r.within})
    if failed:
        print(f"error: not reproduced within tolerance: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
