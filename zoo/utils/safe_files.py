"""Read what users hand the zoo — checkpoints, tensors, arrays — without ever unpickling code,
and say plainly what is wrong with a file that cannot be read. No message suggests an unsafe
load (`allow_pickle=True`, `weights_only=False`): the libraries' own advice is not passed on."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch


def sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _existing_file(path: Path, expected: str) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file; expected {expected}")
    if not path.is_file():
        raise ValueError(f"{path}: not a file; expected {expected}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the file is empty; expected {expected}")


def load_torch_file(path: str | Path, expected: str, mmap: bool = False) -> Any:
    """`torch.load(path, weights_only=True)` on the CPU; a missing, empty, truncated or foreign
    file is a `ValueError` (or `FileNotFoundError`) that names the file and `expected`."""
    path = Path(path)
    _existing_file(path, expected)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    # damaged bytes fail with almost any exception (EOFError, UnpicklingError, an IndexError
    # from the unpickler's stack...): each means the file is not readable as tensors
    except Exception as error:
        raise ValueError(
            f"{path}: cannot be read as tensors only ({type(error).__name__}: the file is "
            f"truncated, damaged or holds Python objects); expected {expected}"
        ) from None


def load_checkpoint_file(path: str | Path, mmap: bool = False) -> dict[str, Any]:
    """A Lightning checkpoint written by train.py (a mapping with a `state_dict`)."""
    expected = "a .ckpt written by train.py"
    checkpoint = load_torch_file(path, expected, mmap=mmap)
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(
            f"{path}: holds no state_dict, not a training checkpoint; expected {expected}"
        )
    return checkpoint


def load_array(path: str | Path) -> torch.Tensor:
    """A numeric array from `.npy` (never unpickled) or `.pt` (a tensor, weights only), checked
    to be non-empty, real-valued and finite."""
    path = Path(path)
    expected = "a .npy or .pt array of numbers, shape (N, *input_shape)"
    if path.suffix not in (".npy", ".pt"):
        raise ValueError(f"{path}: suffix {path.suffix or '(none)'!r}; expected {expected}")
    if path.suffix == ".pt":
        x = load_torch_file(path, expected)
    else:
        _existing_file(path, expected)
        try:
            x = np.load(path, allow_pickle=False)
        except Exception as error:  # as for torch.load: any failure means "not readable"
            raise ValueError(
                f"{path}: not a .npy array of numbers ({type(error).__name__}: not written by "
                f"numpy.save, truncated, or holding Python objects); expected {expected}"
            ) from None
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{path}: an array of dtype {x.dtype}; expected {expected}")
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{path}: holds a {type(x).__name__}; expected {expected}")
    if x.is_complex():
        raise ValueError(f"{path}: an array of dtype {x.dtype}; expected {expected}")
    if x.dim() == 0 or len(x) == 0:
        raise ValueError(f"{path}: shape {tuple(x.shape)} holds no samples; expected {expected}")
    if x.is_floating_point() and not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"{path}: {bad} values are NaN or infinite; expected finite numbers")
    return x
