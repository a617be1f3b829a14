"""Whole processes, wall-clock seconds from start to exit: `train.py`'s default run against the
same work by hand (`zoo.bench.baselines.hand_train`) and template-style (`zoo.bench.baselines.template_train`);
what importing and `--help` cost; the fixed cost of a `fit`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ProcessRun:
    seconds: float
    metrics: dict[str, float]


def run_process(args: list[str], out: str | None = None) -> ProcessRun:
    """`python ARGS` in a fresh interpreter: its wall time and the metrics it wrote as
    `metrics.json` under the folder `out` (none without one)."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
    )
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    found = sorted(Path(out).rglob("metrics.json"), key=lambda p: p.stat().st_mtime) if out else []
    metrics = json.loads(found[-1].read_text()) if found else {}
    return ProcessRun(seconds, {k: float(v) for k, v in metrics.items() if k.count("/") == 1})


def training_processes(epochs: int) -> dict[str, Callable[[], ProcessRun]]:
    """The default experiment three ways, the hand-written script first (the baseline)."""
    import importlib.util

    if importlib.util.find_spec("zoo.bench.baselines") is None:
        raise RuntimeError(
            "the whole-process rows compare train.py with hand-written scripts that live in a "
            "source checkout (zoo/bench/baselines/), not in the installed wheel: run the "
            "benchmark from a clone (pip install -e .)"
        )

    def in_fresh_dir(args: Callable[[str], list[str]]) -> Callable[[], ProcessRun]:
        def run() -> ProcessRun:
            with tempfile.TemporaryDirectory() as out:
                return run_process(args(out), out)

        return run

    return {
        "hand-written script (baseline)": in_fresh_dir(
            lambda out: ["-m", "zoo.bench.baselines.hand_train", out, str(epochs)]
        ),
        # the floor of any Lightning program: the same script, paying Lightning's import
        "hand-written script + import lightning.pytorch": in_fresh_dir(
            lambda out: ["-c", HAND_WITH_LIGHTNING, out, str(epochs)]
        ),
        "python train.py (cnn_digits)": in_fresh_dir(
            lambda out: [
                "-m",
                "zoo.train",
                f"paths.log_dir={out}",
                f"trainer.max_epochs={epochs}",
                "trainer.enable_progress_bar=false",
            ]
        ),
        "template-style pipeline": in_fresh_dir(
            lambda out: ["-m", "zoo.bench.baselines.template_train", out, str(epochs)]
        ),
    }


HAND_WITH_LIGHTNING = (
    "import sys, lightning.pytorch; from pathlib import Path; from zoo.bench.baselines.hand_train import main; "
    "main(Path(sys.argv[1]), int(sys.argv[2]))"
)


def import_processes() -> dict[str, Callable[[], ProcessRun]]:
    """Start-up costs: the interpreter with torch (the baseline), `import zoo`, Lightning, and
    `train.py --help` (which composes the configs but builds nothing)."""
    return {
        "import torch (baseline)": lambda: run_process(["-c", "import torch"]),
        "import zoo (lazy: imports nothing yet)": lambda: run_process(["-c", "import zoo"]),
        "import zoo; zoo.create_model('cnn')": lambda: run_process(
            ["-c", "import zoo; zoo.create_model('cnn')"]
        ),
        "import lightning.pytorch": lambda: run_process(["-c", "import lightning.pytorch"]),
        "python train.py --help": lambda: run_process(["-m", "zoo.train", "--help"]),
    }


def fit_fixed_cost(overrides: list[str]) -> float:
    """Seconds that a `fit` costs beyond its epochs (set-up, hooks and teardown of the
    Trainer): a fit of 1 epoch minus the per-epoch cost of a fit of 11, both warm."""
    from zoo.training.run import build, compose

    def fit(epochs: int) -> float:
        with tempfile.TemporaryDirectory() as out:
            cfg = compose([*overrides, f"trainer.max_epochs={epochs}"], out)
            datamodule, task, trainer = build(cfg)
            datamodule.setup()
            start = time.perf_counter()
            trainer.fit(task, datamodule=datamodule)
            return time.perf_counter() - start

    fit(1)  # the first fit in a process pays one-off imports
    one, many = fit(1), fit(11)
    return one - (many - one) / 10
