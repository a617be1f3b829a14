"""A Hydra callback that checks the shape of a SLURM job (`hydra/launcher=slurm`) before
anything is submitted, so a job that sbatch or Lightning would refuse fails here in one line.

The launcher's `tasks_per_node` and `gpus_per_node` follow `trainer.devices`, its `nodes`
`trainer.num_nodes`; `trainer=ddp`'s `devices: -1` (every GPU of the machine) is no count
that SLURM can reserve. The shape is read once per sweep: runs of one sweep share it.
"""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from zoo.utils.errors import fail

# launcher key -> the trainer key it follows in hydra/launcher/slurm.yaml
COUNTS = {"nodes": "trainer.num_nodes", "tasks_per_node": "trainer.devices"}


def check_slurm_shape(launcher: DictConfig) -> None:
    """Exit with one line unless the job's nodes and tasks per node are positive counts."""
    for key, source in COUNTS.items():
        value = launcher.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            fail(
                f"hydra.launcher.{key}={value!r} (from {source}): a SLURM job needs a positive "
                f"count; set {source} to one, e.g. {source}=4"
            )


class SlurmJobShape(Callback):
    """Run `check_slurm_shape` on a sweep's SLURM launcher; other launchers pass untouched."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        launcher = config.hydra.get("launcher")
        if launcher is not None and str(launcher.get("_target_", "")).endswith(".SlurmLauncher"):
            check_slurm_shape(launcher)
