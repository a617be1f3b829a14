"""Write a model's predictions for new inputs to a CSV file.

    python -m zoo.cli.predict cnn_digits images.npy --raw --out predictions.csv

`INPUTS` is a `.npy` or `.pt` array of shape (N, *input_shape). With `--raw` the samples are in
the dataset's raw units (digits: pixels 0-16; 8-bit images: 0-255) and are preprocessed the way
the model's training data was; without it they are already model inputs.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import torch

from zoo.cli.sources import build_data, resolve


def read_inputs(path: Path) -> torch.Tensor:
    if path.suffix == ".npy":
        return torch.from_numpy(np.load(path, allow_pickle=False))
    if path.suffix == ".pt":
        return torch.load(path, map_location="cpu", weights_only=True)
    raise ValueError(f"inputs {path}: expected a .npy or .pt file")


@torch.no_grad()
def predict(
    source: str, inputs: torch.Tensor, raw: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """(predictions, probabilities) of a model (name, directory or .ckpt) for `inputs`."""
    resolved = resolve(source)
    shape = getattr(resolved.net, "input_shape", ())
    if not hasattr(resolved.net, "head") or (shape and isinstance(shape[0], tuple)):
        raise ValueError(f"{source}: zoo.predict serves single-input models with an output head")
    x = build_data(resolved.data).preprocess(inputs) if raw else inputs.float()
    net = resolved.net.eval()
    logits = net(x)
    return net.head.predict(logits), net.head.predict_proba(logits)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="model name, model directory or .ckpt file")
    parser.add_argument("inputs", type=Path, help=".npy or .pt array (N, *input_shape)")
    parser.add_argument(
        "--raw", action="store_true", help="inputs are raw samples: preprocess them"
    )
    parser.add_argument("--out", type=Path, default=Path("predictions.csv"))
    args = parser.parse_args(argv)
    try:
        predictions, probabilities = predict(args.source, read_inputs(args.inputs), args.raw)
    except (KeyError, ValueError, FileNotFoundError, RuntimeError) as error:
        raise SystemExit(f"error: {error}") from None
    probabilities = probabilities.reshape(len(probabilities), -1)
    with args.out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "prediction", *(f"p{i}" for i in range(probabilities.shape[1]))])
        for i, (pred, probs) in enumerate(
            zip(predictions.tolist(), probabilities.tolist(), strict=True)
        ):
            writer.writerow(
                [
                    i,
                    pred if isinstance(pred, int) else " ".join(map(str, pred)),
                    *(f"{p:.6f}" for p in probs),
                ]
            )
    print(f"{len(predictions)} predictions written to {args.out}")


if __name__ == "__main__":
    main()
