"""Seed-to-seed spread of the figures the learning tests recorded (see conftest.py):

    ZOO_FIGURES=figures.jsonl pytest -m slow --seeds 0,1,2
    python tests/spread.py figures.jsonl

For each test and figure: the value per seed, the worst (lowest) one, the standard deviation,
and worst - 2 std, where a lower threshold may sit (negate figures where lower is better).
"""

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path


def main(path: str) -> None:
    values: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    for line in Path(path).read_text().splitlines():
        row = json.loads(line)
        test, case, seed = row.pop("test"), row.pop("case"), row.pop("seed")
        for name, value in row.items():
            values[(test, case, name)][seed] = value
    print("| test | case | figure | per seed | min | max | std | min - 2 std | max + 2 std |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (test, case, name), by_seed in sorted(values.items()):
        v = list(by_seed.values())
        std = statistics.stdev(v) if len(v) > 1 else 0.0
        seeds = ", ".join(f"{s}: {x:.4f}" for s, x in sorted(by_seed.items()))
        low, high = min(v), max(v)
        print(
            f"| {test} | {case} | {name} | {seeds} | {low:.4f} | {high:.4f} | {std:.4f} "
            f"| {low - 2 * std:.4f} | {high + 2 * std:.4f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
