"""Lightning callbacks the configs add to a run (`conf/callbacks/`), and the Hydra callback that
checks a SLURM sweep (`zoo.callbacks.slurm_job`), which must not import Lightning first."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoo.callbacks.progress import EpochProgressBar

__all__ = ["EpochProgressBar"]


def __getattr__(name: str) -> object:
    """Import `EpochProgressBar` (and Lightning with it) on first use (PEP 562)."""
    if name == "EpochProgressBar":
        from zoo.callbacks.progress import EpochProgressBar

        return EpochProgressBar
    raise AttributeError(f"module 'zoo.callbacks' has no attribute {name!r}")
