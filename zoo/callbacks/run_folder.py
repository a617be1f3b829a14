"""A Hydra callback that refuses a run folder which cannot be written, in one line and before
Hydra creates it (otherwise the first sign is Hydra's own traceback)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from zoo.utils.errors import fail


def check_writable_folder(folder: str | Path, key: str) -> None:
    """`folder` exists as a writable folder, or can be made in one; else exit with one line."""
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        why = "is not a folder" if not existing.is_dir() else "is not writable"
        fail(f"{key}: {existing} {why}; expected a writable place for the run folder {folder}")


class WritableRunFolder(Callback):
    """Check `hydra.run.dir` (or `hydra.sweep.dir`), which `paths.log_dir` sets."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_writable_folder(self._resolved(config).run.dir, "paths.log_dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_writable_folder(self._resolved(config).sweep.dir, "paths.log_dir")

    @staticmethod
    def _resolved(config: DictConfig) -> DictConfig:
        from hydra.core.hydra_config import HydraConfig

        HydraConfig.instance().set_config(config)  # the folder names read ${hydra:...}
        return config.hydra
