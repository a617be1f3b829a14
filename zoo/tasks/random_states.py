"""The global random streams a run draws from (dropout, noise, sampling, augmentation), saved in
its checkpoints so that a resumed run draws what the uninterrupted one would have drawn."""

from __future__ import annotations

import random
from typing import Any

import torch


def random_states() -> dict[str, Any]:
    """Torch's CPU and CUDA generators and Python's `random`, as tensors, tuples and ints
    (they load with `weights_only=True`)."""
    states: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: dict[str, Any]) -> None:
    """Put back what `random_states` saved."""
    torch.set_rng_state(states["torch"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
