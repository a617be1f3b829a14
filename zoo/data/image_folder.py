"""Shards from a tree of image files, for data larger than memory:

    FOLDER/train/<class>/*.png     one folder per class, named as the class
    FOLDER/val/<class>/*.png       the same classes (or some of them)
    FOLDER/test/<class>/*.png      optional

Classes are the sorted names of train's class folders (label = position, as torchvision's
`ImageFolder`). Every image must have the size of the first; all are read as grayscale when
the first is grayscale, else as RGB (alpha dropped), and stored as 8-bit pixels (raw_max 255).
PNG and JPEG are read (Pillow); other files are ignored. The training split's
per-channel mean and std are measured in one streamed pass over the written shards, so no
split is ever held in memory whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from zoo.data.base import SPLITS
from zoo.data.shards import (
    ShardError,
    import_litdata,
    shard_folder,
    write_metadata,
    write_order,
    write_split,
)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
Item = tuple[str, int]  # (image file, class index)


def find_images(folder: str | Path) -> tuple[dict[str, list[Item]], list[str]]:
    """The (file, class index) pairs of each split of `folder`, and the class names; a clear
    error for a tree that is not laid out as the module docstring says."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    splits = [split for split in SPLITS if (folder / split).is_dir()]
    if "train" not in splits or "val" not in splits:
        found = sorted(p.name for p in folder.iterdir() if p.is_dir())
        raise ValueError(
            f"{folder}: expected train/ and val/ (and optionally test/) folders of class folders "
            f"(<split>/<class>/*.png), found folders {found}"
        )
    classes = sorted(p.name for p in (folder / "train").iterdir() if p.is_dir())
    if len(classes) < 2:
        raise ValueError(f"{folder / 'train'}: {len(classes)} class folders, expected at least 2")
    items: dict[str, list[Item]] = {}
    for split in splits:
        items[split] = []
        for class_dir in sorted(p for p in (folder / split).iterdir() if p.is_dir()):
            if class_dir.name not in classes:
                raise ValueError(
                    f"{class_dir}: a class that train/ lacks (train's classes: {', '.join(classes)})"
                )
            files = sorted(p for p in class_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise ValueError(f"{class_dir}: no images ({', '.join(IMAGE_SUFFIXES)})")
            label = classes.index(class_dir.name)
            items[split] += [(str(file), label) for file in files]
        if not items[split]:
            raise ValueError(f"{folder / split}: no class folders")
    return items, classes


def read_image(path: str, mode: str) -> torch.Tensor:
    """An image file as uint8 pixels (C, H, W), read by Pillow; `mode` is GRAY, RGB or
    UNCHANGED (the file's own channels). A `ShardError` naming the file if it cannot be
    decoded."""
    import numpy as np
    from PIL import Image

    image: Image.Image  # the file's image, then perhaps converted
    try:
        with Image.open(path) as image:
            if mode != "UNCHANGED":
                image = image.convert({"GRAY": "L", "RGB": "RGB"}[mode])
            pixels = torch.from_numpy(np.array(image, dtype=np.uint8))
    except (OSError, ValueError) as error:  # Pillow's UnidentifiedImageError is an OSError
        reason = " ".join(str(error).split())
        raise ShardError(f"{path}: cannot be read as an image ({reason})") from None
    return pixels.unsqueeze(0) if pixels.dim() == 2 else pixels.permute(2, 0, 1).contiguous()


class ImageSample:
    """One image file as a shard item, checked against the shape of the first image (a
    picklable callable for litdata's workers)."""

    def __init__(self, mode: str, shape: tuple[int, ...]) -> None:
        self.mode, self.shape = mode, shape

    def __call__(self, item: Item) -> dict[str, torch.Tensor]:
        path, label = item
        image = read_image(path, self.mode)
        if tuple(image.shape) != self.shape:
            raise ShardError(
                f"{path}: an image of shape {list(image.shape)}, expected {list(self.shape)} as "
                "the first training image (every image must have one size)"
            )
        return {"x": image, "y": torch.tensor(label)}


def channel_stats(split_dir: Path, stored_max: float) -> tuple[list[float], list[float]]:
    """Per-channel mean and std (unbiased, as `torch.std`; 1 for a constant channel) of a
    written split's inputs scaled to [0, 1], in one streamed pass."""
    streaming = import_litdata()
    total = squares = torch.zeros(0, dtype=torch.float64)
    count = 0
    dataset = streaming.StreamingDataset(str(split_dir))
    for batch in streaming.StreamingDataLoader(dataset, batch_size=1024):
        x = batch["x"].double() / stored_max
        x = x.transpose(0, 1).reshape(x.shape[1], -1)  # (channels, values)
        total = x.sum(1) + (total if count else 0)
        squares = (x * x).sum(1) + (squares if count else 0)
        count += x.shape[1]
    mean = total / count
    variance = (squares - count * mean**2) / max(count - 1, 1)
    std = variance.clamp(min=0).sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std))
    return mean.tolist(), std.tolist()


def shards_from_image_folder(
    folder: str | Path,
    out: str | Path,
    chunk_bytes: str = "64MB",
    workers: int = 1,
    overwrite: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Write the images of `folder` (laid out as the module docstring says) as shards in `out`
    for `StreamingDataModule`, the training images in the order `seed` draws; returns the
    metadata written to `shards.json`."""
    items, classes = find_images(folder)
    first = items["train"][0][0]
    channels = read_image(first, "UNCHANGED").shape[0]
    mode = "GRAY" if channels <= 2 else "RGB"  # gray (+ alpha) or colour (+ alpha)
    shape = tuple(read_image(first, mode).shape)
    with shard_folder(out, overwrite) as out:
        for split, pairs in items.items():
            pairs = [pairs[i] for i in write_order(split, len(pairs), seed)]
            write_split(ImageSample(mode, shape), pairs, out / split, chunk_bytes, workers)
        mean, std = channel_stats(out / "train", 255.0)
        return write_metadata(
            out,
            {
                "source": f"images={Path(folder).resolve()}",
                "input_shape": list(shape),
                "problem": "multiclass",
                "num_outputs": len(classes),
                "class_names": classes,
                "raw_max": 255.0,
                "threshold": None,
                "stored_max": 255.0,
                "standardize": True,
                "mean": mean,
                "std": std,
                "stats_shape": [shape[0], 1, 1],
                "splits": {split: len(pairs) for split, pairs in items.items()},
            },
        )
