"""Shared helpers: compose the real configs in-process, run train.py in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import DictConfig, open_dict

from zoo.cli.run import compose

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


def run_train_py(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python train.py ARGS` in a subprocess, logs kept under cwd."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def compose_in(tmp_path: Path):
    """compose_train with the output directory in this test's tmp_path."""
    return lambda *overrides: compose_train(list(overrides), tmp_path)
