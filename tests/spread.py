"""Seed-to-seed spread of every learning test and shipped card, and the thresholds it bounds.

    python tests/spread.py                  # measure on seeds 0, 1, 2 and write tests/SPREADS.md
    python tests/spread.py --tier slow -k vit   # only some tests: their cases' rows are replaced
    python tests/spread.py f.jsonl          # print the table of figures already recorded

Measuring runs the slow proofs (`pytest -m slow --seeds 0,1,2`) and the reproduce tier
(`pytest -m reproduce --seeds 0,1,2 --record-spread`, which also writes each card's spread into
its card) with `ZOO_FIGURES` set, so every figure a test compares is recorded per seed (see
conftest.py); the rows of the test cases measured replace theirs, and the run joins the
file's list of runs with its date and commit. For each test and figure the table gives the value per seed, min, max, sample
std, min - 2 std (where a lower threshold may sit) and max + 2 std (an upper one);
tests/test_spreads.py reads the table back and fails when a threshold sits inside it.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from zoo.cli.reproduce import commit

ROOT = Path(__file__).resolve().parents[1]
SPREADS = ROOT / "tests" / "SPREADS.md"
HEADER = "| test | case | figure | per seed | min | max | std | min - 2 std | max + 2 std |"
NOTES = """\
Written by `python tests/spread.py`, which runs the slow proofs (`pytest -m slow --seeds
0,1,2`) and the reproduce tier (`pytest -m reproduce --seeds 0,1,2 --record-spread`) with
`ZOO_FIGURES` set, as the suite runs: one thread per pytest-xdist worker. Each run listed
below replaced the rows of the test cases it measured. The reproduce tier's rows are each shipped
card's metrics trained again from its command (its tolerance is twice the std, kept in the
card) and the proofs that read those retrained cards. Every lower threshold sits at or below
"min - 2 std" of its figure and every upper one at or above "max + 2 std"
(`tests/test_spreads.py` checks each threshold it can read from a test's source), except the
ones that test lists with its reason."""


def figure_rows(path: Path) -> dict[tuple[str, str, str], dict[int, float]]:
    """The figures of a `ZOO_FIGURES` file: (test, case, figure) -> {seed: value}."""
    values: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    for line in path.read_text().splitlines():
        row = json.loads(line)
        test, case, seed = row.pop("test"), row.pop("case"), row.pop("seed")
        for name, value in row.items():
            values[(test, case, name)][seed] = value
    return values


def row(test: str, case: str, name: str, by_seed: dict[int, float]) -> str:
    """One row of the table: a figure's value per seed, min, max, std and the bounds."""
    v = list(by_seed.values())
    std = statistics.stdev(v) if len(v) > 1 else 0.0
    seeds = ", ".join(f"{s}: {x:.4f}" for s, x in sorted(by_seed.items()))
    low, high = min(v), max(v)
    return (
        f"| {test} | {case} | {name} | {seeds} | {low:.4f} | {high:.4f} | {std:.4f} "
        f"| {low - 2 * std:.4f} | {high + 2 * std:.4f} |"
    )


def table(rows: dict[tuple[str, str, str], str]) -> str:
    """The markdown table of the spreads, rows sorted by test, case and figure."""
    return "\n".join(
        [HEADER, "|---|---|---|---|---|---|---|---|---|", *dict(sorted(rows.items())).values()]
    )


@dataclass(frozen=True)
class Spread:
    """One row of SPREADS.md."""

    test: str
    case: str
    figure: str
    low: float
    high: float
    std: float


def read_spreads(text: str) -> list[Spread]:
    """The rows of a SPREADS.md table."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0].startswith("test_"):
            test, case, figure, _, low, high, std, _, _ = cells
            rows.append(Spread(test, case, figure, float(low), float(high), float(std)))
    return rows


@dataclass(frozen=True)
class Threshold:
    """`figure OP value` asserted by a test, `lower` for > and >=, else an upper bound."""

    test: str
    figure: str
    value: float
    lower: bool


FLIPPED = {ast.Gt: False, ast.GtE: False, ast.Lt: True, ast.LtE: True}


def number(node: ast.expr) -> float | None:
    """The value of a numeric literal (`0.9`, `-0.1`), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    return None


def thresholds(source: str) -> Iterator[Threshold]:
    """Every `assert <figure> OP <number>` of a test whose figure it records with
    `figures(name=<expression>)`: the expression, written the same way, compared with a literal."""
    for test in ast.walk(ast.parse(source)):
        if not isinstance(test, ast.FunctionDef) or not test.name.startswith("test_"):
            continue
        recorded = {
            ast.unparse(kw.value): kw.arg
            for call in ast.walk(test)
            if isinstance(call, ast.Call) and ast.unparse(call.func) == "figures"
            for kw in call.keywords
            if kw.arg
        }
        for statement in ast.walk(test):
            if not isinstance(statement, ast.Assert):
                continue
            for compare in ast.walk(statement.test):
                if not isinstance(compare, ast.Compare) or len(compare.ops) != 1:
                    continue
                op, left, right = compare.ops[0], compare.left, compare.comparators[0]
                if type(op) not in FLIPPED:
                    continue
                lower = not FLIPPED[type(op)]
                if number(left) is not None:  # `0.9 < acc`
                    left, right, lower = right, left, not lower
                value = number(right)
                if value is not None and ast.unparse(left) in recorded:
                    yield Threshold(test.name, recorded[ast.unparse(left)], value, lower)


def every_threshold() -> list[Threshold]:
    """The thresholds of every test module."""
    return [
        t for p in sorted((ROOT / "tests").glob("test_*.py")) for t in thresholds(p.read_text())
    ]


TIERS = {
    "slow": ["-m", "slow"],
    "reproduce": ["-m", "reproduce", "--record-spread"],
}


def recorded_rows(text: str) -> dict[tuple[str, str, str], str]:
    """The rows of a SPREADS.md table as written, by (test, case, figure)."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0].startswith("test_"):
            rows[(cells[0], cells[1], cells[2])] = line
    return rows


def recorded_runs(text: str) -> list[str]:
    """The lines of SPREADS.md's list of measuring runs."""
    return [line for line in text.splitlines() if line.startswith("- measured ")]


def merge(figures: Path, command: str, at: str | None = None) -> None:
    """Write SPREADS.md with the figures of `figures` in place of the rows of the test cases
    they cover, the other rows kept, and the run that measured them (at commit `at`, by default
    the checkout's now) added to its list."""
    text = SPREADS.read_text() if SPREADS.exists() else ""
    new = figure_rows(figures)
    cases = {(test, case) for test, case, _ in new}
    kept = {key: line for key, line in recorded_rows(text).items() if key[:2] not in cases}
    measured = {key: row(*key, by_seed) for key, by_seed in new.items()}
    date = datetime.date.today().isoformat()
    runs = [
        *recorded_runs(text),
        f"- measured {date} at commit {at or commit()} on {os.cpu_count()} cores "
        f"({len(cases)} test{'s' * (len(cases) != 1)}): `{command}`",
    ]
    SPREADS.write_text(
        "# Seed-to-seed spread of every learning test and card\n\n"
        f"{NOTES}\n\n" + "\n".join(runs) + f"\n\n{table(kept | measured)}\n"
    )
    print(f"wrote {SPREADS}")


def measure(tiers: list[str], select: str | None) -> None:
    """Run the tiers on seeds 0-2 (only the tests `-k select` picks, if given) and merge their
    figures into SPREADS.md."""
    at = commit()  # before the reproduce tier writes the spreads into the cards
    for tier in tiers:
        with tempfile.TemporaryDirectory() as folder:
            figures = Path(folder) / "figures.jsonl"
            args = [*TIERS[tier], "--seeds", "0,1,2", *(["-k", select] if select else [])]
            command = [sys.executable, "-m", "pytest", *args, "-q"]
            env = {**os.environ, "ZOO_FIGURES": str(figures)}
            subprocess.run(command, cwd=ROOT, env=env, check=False)
            if figures.exists():
                merge(figures, "pytest " + " ".join(args), at)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", nargs="?", type=Path, help="print the table of this file")
    parser.add_argument("--tier", choices=[*TIERS, "all"], default="all")
    parser.add_argument("-k", dest="select", default=None, help="only these tests (pytest -k)")
    parser.add_argument("--merge", type=Path, help="merge a ZOO_FIGURES file into SPREADS.md")
    parser.add_argument("--command", default="", help="with --merge: the run that wrote it")
    args = parser.parse_args(argv)
    if args.figures:
        print(table({key: row(*key, v) for key, v in figure_rows(args.figures).items()}))
    elif args.merge:
        merge(args.merge, args.command)
    else:
        measure(list(TIERS) if args.tier == "all" else [args.tier], args.select)


if __name__ == "__main__":
    main()
