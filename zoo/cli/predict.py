"""Write a model's predictions for new inputs to a CSV file.

    zoo-predict cnn.digits images.npy --raw --out predictions.csv

`INPUTS` is a `.npy` or `.pt` array of shape (N, *input_shape). With `--raw` the samples are in
the dataset's raw units (digits: pixels 0-16; 8-bit images: 0-255) and are preprocessed by the
record the weights carry (`model.pretrained_cfg`: raw maximum, mean, std); without it they are
already model inputs, and inputs far outside the range the model saw get a warning. No training
data is loaded: neither scikit-learn nor Lightning is imported.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import torch

from zoo.cli.common import SOURCE_HELP, or_exit
from zoo.utils.preprocessing import PretrainedRecord, out_of_range, preprocess
from zoo.utils.safe_files import load_array

if TYPE_CHECKING:
    from zoo.blocks.heads import Head


@torch.no_grad()
def predict(
    source: str, inputs: torch.Tensor, raw: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """(predictions, probabilities) of a model (weights' name, directory or .ckpt) for
    `inputs`, preprocessed by the model's own record when `raw`."""
    from zoo.registry import load_model

    net = load_model(source)
    record = cast(PretrainedRecord, net.pretrained_cfg)
    shape = record["input_shape"]
    if not hasattr(net, "head") or (shape and isinstance(shape[0], list)):
        raise ValueError(f"{source}: zoo-predict serves single-input models with an output head")
    if list(inputs.shape[1:]) != list(shape):
        raise ValueError(
            f"inputs of shape {tuple(inputs.shape)}: expected (N, {', '.join(map(str, shape))}) "
            f"for {source}"
        )
    if raw:
        x = preprocess(inputs, record)
    else:
        x = inputs.float()
        if out_of_range(x, record):
            print(
                f"warning: inputs range over [{x.min().item():g}, {x.max().item():g}], far "
                f"outside what {source} takes; if they are raw samples (0-{record['raw_max']:g}), "
                "pass --raw",
                file=sys.stderr,
            )
    logits = net(x)
    head = cast("Head", net.head)
    return head.predict(logits), head.predict_proba(logits)


def check_writable(path: Path) -> None:
    """`path` can be written: its folder exists and is writable, and it is no folder itself."""
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"--out {path}: no folder {folder}; expected a file in an existing folder"
        )
    if path.is_dir() or not os.access(folder, os.W_OK):
        raise ValueError(f"--out {path}: cannot be written; expected a writable file path")


def write_csv(path: Path, predictions: torch.Tensor, probabilities: torch.Tensor) -> None:
    """One row per sample: index, prediction (labels joined by spaces), one probability each."""
    probabilities = probabilities.reshape(len(probabilities), -1)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "prediction", *(f"p{i}" for i in range(probabilities.shape[1]))])
        for i, (pred, probs) in enumerate(
            zip(predictions.tolist(), probabilities.tolist(), strict=True)
        ):
            label = pred if isinstance(pred, int) else " ".join(map(str, pred))
            writer.writerow([i, label, *(f"{p:.6f}" for p in probs)])


def build_parser() -> argparse.ArgumentParser:
    """The `zoo-predict` command line (the documentation is generated from it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help=SOURCE_HELP)
    parser.add_argument(
        "inputs", type=Path, help=".npy or .pt array of N inputs, each of the model's input shape"
    )
    parser.add_argument(
        "--raw", action="store_true", help="inputs are raw samples: preprocess them"
    )
    parser.add_argument("--out", type=Path, default=Path("predictions.csv"))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    or_exit(lambda: check_writable(args.out))
    predictions, probabilities = or_exit(
        lambda: predict(args.source, load_array(args.inputs), args.raw)
    )
    write_csv(args.out, predictions, probabilities)
    print(f"{len(predictions)} predictions written to {args.out}")


if __name__ == "__main__":
    main()
