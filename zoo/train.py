"""Train a zoo model: `zoo-train experiment=cnn_digits optimizer.lr=3e-3` (also
`python -m zoo.train`, or `python train.py` in a clone).

Only hydra is imported here, so `--help` and `--cfg job` answer at once; torch, lightning
and the rest of the zoo are imported once a run really starts. The configs ship inside the
package (`zoo/conf`); add your own with `--config-dir my_conf` (see the README).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, cast

import hydra
from omegaconf import DictConfig


def main() -> None:
    """The command: Hydra's app, with Hydra's own errors (an unknown config name, a bad
    override) reported in one `error: ...` line and exit status 2, as the zoo's are
    (`HYDRA_FULL_ERROR=1` still shows Hydra's traceback)."""
    from hydra.errors import HydraException

    from zoo.utils.errors import fail

    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra re-raises its errors here instead of printing
    try:
        run()
    except HydraException as error:
        if wants_traceback:
            raise
        fail(error)


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def run(cfg: DictConfig) -> float | None:
    """One run of the composed config: train, test, print the metrics; a user's error or a
    stop ends in one `error: ...` line. Returns `optimized_metric` for sweepers."""
    from zoo.training.checks import ConfigError
    from zoo.training.console import quiet_lightning
    from zoo.training.run import optimized_metric, train
    from zoo.utils.errors import TrainingStopped, fail

    quiet_lightning()
    try:
        metrics = train(cfg)
        value = optimized_metric(cfg, metrics)
    except ConfigError as error:
        remove_unused_run_folder(cfg.paths.log_dir)
        fail(error)
    except TrainingStopped as stop:
        print(f"error: {stop}", file=sys.stderr)
        sys.exit(stop.exit_code)
    from lightning.pytorch.utilities import rank_zero_only

    rank: int = cast(Any, rank_zero_only).rank  # set by Lightning at import, undeclared
    if rank == 0:  # DDP runs this in every process, on every node
        # the run's metrics, also in its folder as metrics.json (what tools read)
        logging.getLogger("zoo").info(" ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())))
    return value


def remove_unused_run_folder(log_dir: str) -> None:
    """A run stopped before training leaves no folder: Hydra's run folder goes, unless it
    already holds checkpoints (a run's outputs are never deleted), and so do the folders
    above it up to `log_dir` that it leaves empty."""
    import shutil
    from pathlib import Path

    from hydra.core.hydra_config import HydraConfig

    folder = Path(HydraConfig.get().runtime.output_dir).resolve()
    if folder.is_dir() and not (folder / "checkpoints").exists():
        root = logging.getLogger()
        for handler in root.handlers[:]:  # the run's log file is closed before its folder goes
            inside = isinstance(handler, logging.FileHandler) and folder in (
                Path(handler.baseFilename).resolve().parents
            )
            if inside:
                root.removeHandler(handler)
                handler.close()
        shutil.rmtree(folder, ignore_errors=True)
        top = Path(log_dir).resolve()
        for parent in folder.resolve().parents:
            if top not in (parent, *parent.parents):
                break
            try:
                parent.rmdir()  # only if empty
            except OSError:
                break


if __name__ == "__main__":
    main()
