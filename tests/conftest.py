"""Shared helpers: compose the real configs in-process, run train.py in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
QUIET = ["trainer.enable_progress_bar=false", "callbacks.progress_bar=null"]  # for train.py runs


def compose_train(overrides: list[str], output_dir: Path) -> DictConfig:
    """conf/train.yaml with `overrides`, as train.py would get it, writing under output_dir.

    Progress bars are switched off: tests read metrics, not terminals.
    """
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg.hydra
        cfg.paths.output_dir = str(output_dir)
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
