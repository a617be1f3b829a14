"""Shared helpers: compose the real configs in-process, run train.py in a subprocess; seeds
and recorded figures for the learning tests.

A learning test takes a `seed` argument (the seed of its runs) and reports every figure it
compares through the `figures` fixture. By default it runs once, with its own default seed;
`pytest -m slow --seeds 0,1,2` runs it once per seed, and with `ZOO_FIGURES=figures.jsonl`
set every figure is appended there, so `python tests/spread.py figures.jsonl` can show the
seed-to-seed spread that each threshold must allow for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig, open_dict

from zoo.training.run import compose

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "zoo" / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
QUIET = ["trainer.enable_progress_bar=false", "callbacks.progress_bar=null"]  # for train.py runs


def compose_train(overrides: list[str], output_dir: Path) -> DictConfig:
    """conf/train.yaml with `overrides`, writing under output_dir, progress bars off (tests
    read metrics, not terminals)."""
    cfg = compose(overrides, output_dir)
    with open_dict(cfg):
        cfg.paths.data_dir = str(ROOT / "data")
        cfg.trainer.enable_progress_bar = False
        if cfg.get("callbacks") and "progress_bar" in cfg.callbacks:
            cfg.callbacks.progress_bar = None
    return cfg


def run_train_py(
    *args: str, cwd: Path = ROOT, timeout: float = 300, carriage_returns: bool = False
) -> subprocess.CompletedProcess:
    """`python train.py ARGS` in a subprocess, logs kept under cwd; tests/ is on its path, so
    test callbacks (`interrupt.SignalAt`) can be named in ARGS."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "HYDRA_FULL_ERROR": "0",
        "PYTHONPATH": str(ROOT / "tests"),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=timeout,
    )
    # text as written (with carriage_returns), or with a progress bar's "\r" as new lines,
    # as universal newlines read it
    for stream in ("stdout", "stderr"):
        text = getattr(result, stream).decode()
        if not carriage_returns:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        setattr(result, stream, text)
    return result


def train_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """`python train.py ARGS` in this process (`zoo.train.main`, as the script runs it, without
    a new interpreter's imports): its exit status, 0 when it returns."""
    import zoo.train

    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    monkeypatch.setattr(sys, "argv", ["train.py", *args])
    try:
        zoo.train.main()
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def run_metrics(folder: Path) -> dict[str, float]:
    """The metrics of the newest train.py run under `folder`: its `metrics.json` (tools read
    that file, never the console)."""
    runs = sorted(Path(folder).rglob("metrics.json"), key=lambda p: p.stat().st_mtime)
    assert runs, f"no metrics.json under {folder}"
    return json.loads(runs[-1].read_text())


@pytest.fixture
def compose_in(tmp_path: Path):
    """compose_train with the output directory in this test's tmp_path."""
    return lambda *overrides: compose_train(list(overrides), tmp_path)


def reproduce_tier(config: pytest.Config) -> bool:
    """Whether the run selects the reproduce tier (`pytest -m reproduce`); every other run,
    the README's `pytest` included, leaves its tests out."""
    marks = config.getoption("markexpr") or ""
    return "reproduce" in marks and "not reproduce" not in marks


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker gets its share of the cores, it and the subprocesses it
    starts (OMP_NUM_THREADS is inherited): workers that each took every core would fight over
    them, about ten times slower on 2 cores.

    The reproduce tier hands its tests to the workers one by one (`--dist load`, not a module
    to a worker), and its workers share one folder of retrained cards (`retrained`)."""
    if reproduce_tier(config) and not hasattr(config, "workerinput"):
        if config.getoption("dist", "no") != "no":
            config.option.dist = "load"
        os.environ["ZOO_REPRODUCE_DIR"] = tempfile.mkdtemp(prefix="zoo-reproduce-")  # fresh
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seeds",
        default=None,
        help="comma-separated seeds for every learning test (default: each test's own)",
    )
    parser.addoption(
        "--reproduce-table",
        default="reproduce.md",
        help="where the reproduce tier writes its table (default reproduce.md)",
    )
    parser.addoption(
        "--record-spread",
        action="store_true",
        help="with -m reproduce --seeds 0,1,2: write each card's seed spread into its card",
    )
    parser.addoption(
        "--replace-shipped",
        action="store_true",
        help="with --record-spread: ship each card's seed-0 run in place of its weights and card",
    )


def expected_seconds(item: pytest.Item) -> float:
    """How long the card a reproduce test retrains took when its spread was measured (0 for the
    proofs, which run last and find their cards trained): the longest start first."""
    from zoo.cli.reproduce import expected_seconds
    from zoo.registry import list_pretrained

    name = getattr(item, "callspec", None) and item.callspec.params.get("name")
    marked = item.get_closest_marker("reproduce")
    return expected_seconds(name) if marked and name in list_pretrained() else 0.0


@pytest.fixture(scope="session")
def retrained():
    """`retrained(name, seed=0)`: the shipped card `name` trained again from its command, with
    the metrics of the card's evaluation and its weights (`.model_dir`). Every worker reads one
    folder (`ZOO_REPRODUCE_DIR`), each card under a file lock: a card trains once per run,
    whichever test asks first, and joins the tier's runs (`runs.jsonl`)."""
    from dataclasses import asdict

    from filelock import FileLock

    from zoo.cli.reproduce import Retrained, retrain

    folder = Path(os.environ["ZOO_REPRODUCE_DIR"])

    def get(name: str, seed: int = 0) -> Retrained:
        done = folder / f"{name}-{seed}.json"
        with FileLock(folder / f"{name}-{seed}.lock"):
            if done.exists():
                return Retrained(**json.loads(done.read_text()))
            run = retrain(name, seed, folder / f"{name}-{seed}", str(ROOT / "data"))
            done.write_text(json.dumps(asdict(run)))
        with FileLock(folder / "runs.lock"), open(folder / "runs.jsonl", "a") as f:
            f.write(json.dumps(asdict(run)) + "\n")
        return run

    return get


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """The reproduce tier's table, printed and written to `--reproduce-table`; with
    `--record-spread` (and `--seeds 0,1,2`), each card's spread written into the card first,
    and with `--replace-shipped` its seed-0 run shipped in its place."""
    rows_file = Path(os.environ.get("ZOO_REPRODUCE_DIR", "-")) / "runs.jsonl"
    if not reproduce_tier(config) or hasattr(config, "workerinput") or not rows_file.is_file():
        return
    from zoo.cli.reproduce import Retrained, report, write_table

    runs = [Retrained(**json.loads(line)) for line in rows_file.read_text().splitlines()]
    record, replace = config.getoption("--record-spread"), config.getoption("--replace-shipped")
    rows = report(runs, record=record, replace=replace)
    path = Path(config.invocation_params.dir) / config.getoption("--reproduce-table")
    text = write_table(rows, path)
    terminalreporter.write_sep("=", f"reproduce tier: {path}")
    terminalreporter.write_line(text)


LONG_QUICK_MODULES = {"test_repo"}  # runs mypy over zoo/ (about 40 s from a cold cache)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules holding slow tests (and the quick tier's long ones) first, each module's tests
    kept together and in order: pytest-xdist hands modules to workers in this order (`--dist
    loadscope`), so the long ones start at once and short ones fill the end, rather than a long
    one running alone last. The reproduce tier's tests run only when selected, those of the
    longest cards first."""
    if not reproduce_tier(config):
        left_out = [item for item in items if item.get_closest_marker("reproduce")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("reproduce")]
    else:
        items.sort(key=lambda item: -expected_seconds(item))
        return
    slow = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    slow |= LONG_QUICK_MODULES
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (item.module.__name__ not in slow, order[id(item)]))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Learning tests (those taking `seed`) run once per `--seeds` seed when it is given. The
    seed is module-scoped, so a module fixture that trains a run several tests share can take
    it too (the run is then made once per seed)."""
    seeds = metafunc.config.getoption("--seeds")
    if "seed" in metafunc.fixturenames and seeds:
        metafunc.parametrize("seed", [int(s) for s in seeds.split(",")], scope="module")


@pytest.fixture(scope="session")
def seed() -> int:
    """The seed of a learning test's runs: 0, or each of `--seeds`."""
    return 0


@pytest.fixture
def figures(request: pytest.FixtureRequest, seed: int):
    """`figures(acc=0.97, baseline=0.80)`: record the figures a learning test compares, with its
    seed, to the JSON-lines file named by `ZOO_FIGURES` (nothing is written without it)."""
    path = os.environ.get("ZOO_FIGURES")
    test = request.node.name.split("[")[0]
    params = getattr(request.node, "callspec", None)
    case = {k: v for k, v in params.params.items() if k != "seed"} if params else {}

    def record(**values: float) -> None:
        if path:
            row = {"test": test, "case": str(case) if case else "", "seed": seed}
            with open(path, "a") as f:
                f.write(json.dumps(row | {k: float(v) for k, v in values.items()}) + "\n")

    return record


def write_png(image, path) -> None:
    """Write uint8 pixels (C, H, W), C = 1 or 3, as a PNG file (Pillow)."""
    from PIL import Image

    pixels = image.to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels).save(path)


def read_png(path) -> torch.Tensor:
    """A PNG file's pixels as uint8 (C, H, W) (Pillow)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        pixels = torch.from_numpy(np.array(image))
    return pixels.unsqueeze(0) if pixels.dim() == 2 else pixels.permute(2, 0, 1)
