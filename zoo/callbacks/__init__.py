"""Lightning callbacks the configs add to a run (`conf/callbacks/`)."""

from zoo.callbacks.progress import EpochProgressBar

__all__ = ["EpochProgressBar"]
