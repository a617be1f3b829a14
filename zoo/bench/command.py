"""What the zoo's training costs, as ratios to plain PyTorch measured in the same run.

    python -m zoo.bench [--epochs 20] [--repeats 3] [--device cpu|cuda] [--json bench.json]

Tables (each row a ratio to its table's first row, the median of `--repeats` interleaved
rounds, so that a slow spell of the machine hits every row):
- ms per training step of the digits MLP (batch 64, the worst case: overhead dominates) and
  of the default CNN at batch 128 on 28x28 inputs: hand loops, Lightning Fabric, Lightning's
  own floor, `train.py` lean and with the experiment's defaults. Every row starts from the
  same weights and trains on the same batches; their final losses must agree (same math).
- whole processes: `python train.py` against the same work written by hand and in the
  style of lightning-hydra-template; import and `--help` costs; a `fit`'s fixed cost.
- a distillation step with the teacher run at every step against its cached outputs.
- images/s served from litdata shards (`zoo.data.StreamingDataModule`) against memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import torch

from zoo.cli.common import fail, markdown_table, positive_int

# relative gap of final losses that is "the same math": float32 on the CPU; under bf16 autocast
# on a GPU the trajectories drift apart and a gap is only reported
CPU_TOLERANCE, BF16_TOLERANCE = 1e-4, 3e-2
ACCURACY_TOLERANCE = 0.005  # whole processes: the same work ends on the same test accuracy


def interleaved(setups: Mapping[str, Callable[[], Any]], repeats: int) -> dict[str, list[Any]]:
    """`repeats` rounds, each measuring every row once, in order."""
    runs: dict[str, list[Any]] = {name: [] for name in setups}
    for _ in range(repeats):
        for name, measure in setups.items():
            runs[name].append(measure())
    return runs


def median_by(runs: list[Any], key: Callable[[Any], float]) -> Any:
    """The run whose `key` is the median (the lower middle one for an even count)."""
    ordered = sorted(runs, key=key)
    return ordered[(len(ordered) - 1) // 2]


def ratio_table(
    rows: dict[str, float], unit: str, extra: dict[str, list[str]] | None = None
) -> str:
    base = next(iter(rows.values()))
    headers = ["setup", unit, "ratio", *(extra or {})]
    cells = [
        [name, f"{value:.3f}", f"{value / base:.2f}", *(col[i] for col in (extra or {}).values())]
        for i, (name, value) in enumerate(rows.items())
    ]
    return markdown_table(headers, cells)


def digits_28x28(folder: Path) -> Path:
    """The digits upscaled to 28x28 (MNIST's size) as an `.npz` for `data=arrays`."""
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    x = torch.nn.functional.interpolate(x, size=(28, 28), mode="bilinear").round()
    path = folder / "digits28.npz"
    np.savez(path, x_train=x.numpy().astype("uint8"), y_train=digits.target)
    return path


def step_tables(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from zoo.bench.steps import check_same_math, compose_workload, rows

    device = ["trainer=gpu"] if args.device == "cuda" else []
    common = ["scheduler=none", "trainer.enable_progress_bar=false", *device]
    # (overrides, epochs): the CNN's steps cost ~40x the MLP's on a CPU, a quarter of the epochs
    workloads = {
        "digits MLP, batch 64 (ms per step)": (["experiment=mlp_digits", *common], args.epochs),
        "default CNN, batch 128, 28x28 inputs (ms per step)": (
            [
                "experiment=cnn_digits",
                "data=arrays",
                f"data.path={digits_28x28(folder)}",
                "data.batch_size=128",
                *common,
            ],
            max(1, args.epochs // 4),
        ),
    }
    tolerance = BF16_TOLERANCE if args.device == "cuda" else CPU_TOLERANCE
    tables = {}
    for title, (overrides, epochs) in workloads.items():
        workload = compose_workload(overrides, epochs, args.device)
        setups = rows(workload)
        warm = compose_workload(overrides, 1, args.device)
        for measure in rows(warm).values():  # one-off costs (imports, first Trainer) paid here
            measure()
        runs = interleaved(setups, args.repeats)
        results = {name: median_by(r, lambda m: m.ms_per_step) for name, r in runs.items()}
        extra = {"final loss": [f"{m.final_loss:.5f}" for m in results.values()]}
        extra["samples/s"] = [f"{m.samples_per_s:.0f}" for m in results.values()]
        if args.device == "cuda":
            extra["peak MiB"] = [f"{m.peak_memory_mb:.0f}" for m in results.values()]
        print(f"\n{title}, {epochs} epochs, median of {args.repeats}, device {args.device}")
        print(ratio_table({k: m.ms_per_step for k, m in results.items()}, "ms/step", extra))
        mismatches = check_same_math(results, tolerance)
        if mismatches and args.device == "cpu":
            fail(f"{title}: rows did different math: " + "; ".join(mismatches))
        for mismatch in mismatches:  # bf16 autocast and cuDNN's choices are not bit-exact
            print(f"note: {mismatch} (bf16 on {args.device}: same math, rounded differently)")
        tables[title] = {name: [asdict(m) for m in r] for name, r in runs.items()}
    return tables


def process_tables(args: argparse.Namespace) -> dict[str, Any]:
    from zoo.bench.processes import fit_fixed_cost, import_processes, training_processes

    tables: dict[str, Any] = {}
    for title, setups in (
        (
            f"whole process, default run ({args.process_epochs} epochs; s)",
            training_processes(args.process_epochs),
        ),
        ("start-up (s)", import_processes()),
    ):
        runs = interleaved(setups, args.repeats)
        results = {name: median_by(r, lambda p: p.seconds) for name, r in runs.items()}
        accuracy = [p.metrics.get("test/acc", float("nan")) for p in results.values()]
        extra = {"test/acc": [f"{a:.4f}" for a in accuracy]} if "whole" in title else None
        if extra and max(accuracy) - min(accuracy) > ACCURACY_TOLERANCE:
            fail(f"{title}: the runs did different work: test accuracies {accuracy}")
        print(f"\n{title}, median of {args.repeats}")
        print(ratio_table({k: p.seconds for k, p in results.items()}, "seconds", extra))
        tables[title] = {name: [asdict(p) for p in r] for name, r in runs.items()}
    fixed = fit_fixed_cost(["experiment=mlp_digits", "trainer.enable_progress_bar=false"])
    print(f"\nfixed cost of a fit (set-up and teardown beyond its steps): {1000 * fixed:.0f} ms")
    tables["fit fixed cost (s)"] = fixed
    return tables


def distillation_table(args: argparse.Namespace) -> dict[str, Any]:
    from zoo.bench.steps import LEAN, compose_workload, train_py

    base = ["experiment=distill_small_digits", "trainer.enable_progress_bar=false"]
    workloads = {
        name: compose_workload([*base, f"task.cache_teacher={cache}"], args.epochs, "cpu")
        for name, cache in (
            ("teacher run at every step (baseline)", "false"),
            ("teacher outputs cached once (cache_teacher)", "true"),
        )
    }
    setups = {name: partial(train_py, w, LEAN) for name, w in workloads.items()}
    runs = interleaved(setups, args.repeats)
    results = {name: median_by(r, lambda m: m.ms_per_step) for name, r in runs.items()}
    print("\ndistill_small_digits: cnn.digits_teacher -> 2 x 30 MLP student, train.py lean")
    print(ratio_table({k: m.ms_per_step for k, m in results.items()}, "ms/step"))
    return {name: [asdict(m) for m in r] for name, r in runs.items()}


def streaming_table(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from zoo.bench.streaming import BATCH, EPOCHS, streaming_rows

    runs = interleaved(streaming_rows(folder), args.repeats)
    results = {name: statistics.median(r) for name, r in runs.items()}
    print(f"\nimages/s into the training loop, digits 8x8, batch {BATCH}, {EPOCHS} epochs")
    base = next(iter(results.values()))
    cells = [[name, f"{v:.0f}", f"{v / base:.3g}"] for name, v in results.items()]
    print(markdown_table(["source", "images/s", "ratio"], cells))
    return runs


def build_parser() -> argparse.ArgumentParser:
    """The `zoo-bench` command line (the documentation is generated from it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=20,
        help="epochs of each MLP step measurement (the CNN: a quarter)",
    )
    parser.add_argument(
        "--process-epochs", type=positive_int, default=30, help="epochs of the whole-process runs"
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=3, help="interleaved rounds; the median is kept"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--json", type=Path, default=Path("bench.json"), help="where the raw runs go"
    )
    parser.add_argument(
        "--only",
        choices=("steps", "processes", "distillation", "streaming"),
        action="append",
        help="run only these tables (repeatable); default: all",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: no CUDA device is visible to torch; expected a GPU machine")
    only = set(args.only or ("steps", "processes", "distillation", "streaming"))
    report: dict[str, Any] = {
        "torch": torch.__version__,
        "device": args.device,
        "args": vars(args) | {"json": str(args.json)},
    }
    print(
        f"zoo benchmark, torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}"
    )
    with tempfile.TemporaryDirectory() as folder:
        if "steps" in only:
            report["steps"] = step_tables(args, Path(folder))
        if "processes" in only:
            report["processes"] = process_tables(args)
        if "distillation" in only:
            report["distillation"] = distillation_table(args)
        if "streaming" in only:
            report["streaming"] = streaming_table(args, Path(folder))
    args.json.write_text(json.dumps(report, indent=1))
    print(f"\nraw runs: {args.json}")


if __name__ == "__main__":
    main()
