"""Shards for data larger than memory: a folder that `StreamingDataModule` streams from.

    <root>/shards.json        what the data is (written last: no file, no finished shards)
    <root>/train/, val/[, test/]   each a litdata optimized dataset (`litdata.optimize`)

Each sample is `{"x": tensor, "y": tensor}`, stored as the source holds it: an in-memory
dataset's inputs scaled to [0, 1] (`load_unit()`), an image folder's 8-bit pixels. `shards.json`
holds what a model config and a trained model need without reading any sample:

| key                    | meaning                                                        |
| input_shape, problem, num_outputs, class_names | as an InMemoryDataModule's attributes |
| raw_max, threshold     | the preprocessing record's (`zoo.utils.preprocessing`)               |
| stored_max             | the stored value that maps to 1 (1 for [0, 1] floats, 255 for pixels) |
| standardize, mean, std, stats_shape | the training split's statistics, applied per sample as `(x - mean) / std` with mean and std shaped `stats_shape` |
| splits, source         | samples per split; what was converted                          |

The training split is written in a seeded random order: litdata shuffles the order of chunks
and the samples within each chunk, never across chunks, so a source sorted by class (an image
folder) would otherwise give batches of one class. litdata is imported inside the functions
that need it (`import_litdata()`: importing it takes ~1.5 s).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from zoo.data.base import SPLITS, InMemoryDataModule
from zoo.utils.atomic import write_text_atomic

METADATA = "shards.json"
FORMAT = "zoo-shards/1"
METADATA_KEYS = (
    "input_shape",
    "problem",
    "num_outputs",
    "class_names",
    "raw_max",
    "threshold",
    "stored_max",
    "standardize",
    "mean",
    "std",
    "stats_shape",
    "splits",
)


def import_litdata() -> ModuleType:
    """litdata, imported on first use, without the PyPI version check some releases make in
    every process (a request that stalls up to 30 s where there is no network; set
    LITDATA_DISABLE_VERSION_CHECK=0 to have it), and with its INFO messages (a cache budget
    per split and epoch, in every run log) off unless its logger's level was set."""
    os.environ.setdefault("LITDATA_DISABLE_VERSION_CHECK", "1")
    import litdata

    logger = logging.getLogger("litdata")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    return litdata


def write_order(split: str, n: int, seed: int) -> list[int]:
    """The order samples are written in: seeded random for training (see the module
    docstring), as they come for validation and test."""
    if split != "train":
        return list(range(n))
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()


class ShardError(ValueError):
    """A sample that cannot be written (an unreadable image, a shape that differs); raised in
    a litdata worker, re-raised in the caller with the same one-line message."""


def read_metadata(root: str | Path) -> dict[str, Any]:
    """The `shards.json` of a shard folder, checked: a clear error for a missing folder, a
    folder without finished shards, or a file another tool wrote."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data.path={str(root)!r}: no such folder")
    path = root / METADATA
    if not path.is_file():
        raise FileNotFoundError(
            f"data.path={str(root)!r} has no {METADATA}: expected shards written by zoo-shards "
            "(an interrupted conversion leaves none)"
        )
    try:
        metadata = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a zoo-shards metadata file ({error})") from None
    if not isinstance(metadata, dict):
        metadata = {}
    missing = [key for key in METADATA_KEYS if key not in metadata]
    if metadata.get("format") != FORMAT or missing:
        lacks = f", it lacks {', '.join(missing)}" if missing else ""
        raise ValueError(f"{path}: expected zoo-shards metadata (format {FORMAT!r}){lacks}")
    for split in ("train", "val"):
        if split not in metadata["splits"]:
            raise ValueError(f"{path}: no {split} split; expected train, val and optionally test")
    return metadata


def prepare_output(out: str | Path, overwrite: bool = False) -> Path:
    """`out` as a new or empty folder. What a conversion writes there (`shards.json`, split
    folders: earlier shards, or those of a conversion that was killed) is removed when
    `overwrite`; a folder holding anything else is never emptied."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: a file, expected a folder for the shards")
    found = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    ours = set(found) <= {METADATA, *SPLITS}
    if found and not (overwrite and ours):
        what = "earlier shards" if ours else f"files that are not shards ({', '.join(found[:3])})"
        hint = ": pass --overwrite (overwrite=True)" if ours else ""
        raise ValueError(f"{out}: not empty, it holds {what}; expected a new folder{hint}")
    (out / METADATA).unlink(missing_ok=True)
    for split in SPLITS:
        shutil.rmtree(out / split, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextmanager
def shard_folder(out: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """`out` prepared for new shards (`prepare_output`); if writing them fails, the split
    folders written so far are removed, so a failed conversion leaves nothing half-done."""
    out = prepare_output(out, overwrite)
    try:
        yield out
    except BaseException:
        for split in SPLITS:
            shutil.rmtree(out / split, ignore_errors=True)
        raise


def write_split(
    sample: Callable[[Any], dict[str, torch.Tensor]],
    inputs: Sequence[Any],
    output_dir: Path,
    chunk_bytes: str = "64MB",
    workers: int = 1,
) -> None:
    """`litdata.optimize`: `sample(item)` for every item, written as chunks into `output_dir`.
    Workers are forked (where the platform can) so they share the parent's data; the process's
    multiprocessing start method is left as it was. A `ShardError` raised by `sample` in a
    worker comes back as a `ShardError` with its message."""
    optimize = import_litdata().optimize
    previous = multiprocessing.get_start_method(allow_none=True)
    fork = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    try:
        optimize(
            fn=sample,
            inputs=list(inputs),
            output_dir=str(output_dir),
            chunk_bytes=chunk_bytes,
            num_workers=workers,
            start_method=fork,
            verbose=False,
        )
    except RuntimeError as error:
        found = re.search(rf"{ShardError.__name__}: (.+)", str(error))
        if found:
            raise ShardError(found.group(1)) from None
        raise
    finally:
        multiprocessing.set_start_method(previous, force=True)


def write_metadata(out: Path, metadata: dict[str, Any]) -> dict[str, Any]:
    """Write `shards.json` (atomically, last of all) and return the metadata."""
    metadata = {"format": FORMAT, **metadata}
    write_text_atomic(out / METADATA, json.dumps(metadata, indent=1) + "\n")
    return metadata


class IndexedSample:
    """Sample `i` of in-memory tensors as a shard item (a picklable callable for workers)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __call__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i].clone(), "y": self.y[i].clone()}


def shards_from_datamodule(
    datamodule: InMemoryDataModule,
    out: str | Path,
    source: str = "",
    chunk_bytes: str = "64MB",
    workers: int = 1,
    overwrite: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Write an in-memory data module's splits (`load_unit()`, inputs in [0, 1]) as shards in
    `out`, with its spec, preprocessing record and training statistics in `shards.json`, so
    that `StreamingDataModule(out)` serves the samples, spec and record the module does (the
    training samples in the order `seed` draws).
    Only single-input data without per-batch augmentation can be written. Returns the
    metadata."""
    name = type(datamodule).__name__
    if not isinstance(datamodule, InMemoryDataModule):
        raise ValueError(f"{name} is not an in-memory data module: expected one with load_unit()")
    shape = datamodule.input_shape
    if shape and isinstance(shape[0], list | tuple):
        raise ValueError(
            f"{name} serves {len(shape)} inputs per sample ({list(shape)}): shards hold one "
            "input and a target"
        )
    if not datamodule.fixed_training_inputs:
        raise ValueError(
            f"{name} changes its training inputs every batch (augmentation such as jitter): "
            "shards hold fixed samples, convert it without the augmentation"
        )
    record = datamodule.preprocessing_record()  # loads once, for the training statistics
    stats_shape = [] if datamodule.stats is None else list(datamodule.stats[0].shape[1:])
    sizes = {}
    with shard_folder(out, overwrite) as out:
        for split, (x, y) in datamodule.load_unit().items():
            order = write_order(split, len(x), seed)
            write_split(IndexedSample(x, y), order, out / split, chunk_bytes, workers)
            sizes[split] = len(x)
        return write_metadata(
            out,
            {
                "source": source or name,
                "input_shape": record["input_shape"],
                "problem": datamodule.problem,
                "num_outputs": datamodule.num_outputs,
                "class_names": record["class_names"],
                "raw_max": record["raw_max"],
                "threshold": record["threshold"],
                "stored_max": 1.0,
                "standardize": datamodule.stats is not None,
                "mean": record["mean"],
                "std": record["std"],
                "stats_shape": stats_shape,
                "splits": sizes,
            },
        )
