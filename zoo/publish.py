"""Turn a train.py run into shipped weights: evaluate its best checkpoint, write weights + card.

    python train.py experiment=cnn_digits
    python -m zoo.publish logs/cnn_digits/runs/<time> --name cnn_digits

The card records the dataset and split, the test metrics measured here by `zoo.eval`, the
parameter count, the command that trained it and the sha256 of the weights.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

import torch

from zoo import __version__, hub
from zoo.eval import evaluate
from zoo.sources import build_data, resolve

LICENSE = "MIT (weights and code); data: see `dataset`"
DATASETS = {
    "zoo.data.DigitsDataModule": "scikit-learn digits: 1797 8x8 handwritten digits (UCI ML "
    "Optical Recognition of Handwritten Digits, CC BY 4.0)",
    "zoo.data.DigitMosaicsDataModule": "2x2 mosaics of scikit-learn digits (UCI ML Optical "
    "Recognition of Handwritten Digits, CC BY 4.0), mosaics drawn within each split",
}


def best_checkpoint(run: Path) -> Path:
    """A .ckpt as given, or the best (non-`last`) checkpoint of a run directory."""
    if run.suffix == ".ckpt":
        return run
    found = sorted(p for p in (run / "checkpoints").glob("*.ckpt") if p.name != "last.ckpt")
    if len(found) != 1:
        raise FileNotFoundError(
            f"expected one best checkpoint in {run / 'checkpoints'}, found {found}"
        )
    return found[0]


def publish(run: Path, name: str, registry: Path = hub.REGISTRY) -> dict[str, Any]:
    """Evaluate the run's best checkpoint on its test split and save it as `registry/name`."""
    checkpoint = best_checkpoint(run)
    source = resolve(str(checkpoint))
    meta = torch.load(checkpoint, map_location="cpu", weights_only=True)
    datamodule = build_data(source.data)
    splits = {k: len(y) for k, (_, y) in datamodule.load().items()}
    card = {
        "name": name,
        "dataset": DATASETS.get(source.data["_target_"], source.data["_target_"]),
        "data": source.data,
        "split": splits,
        "task": source.task,
        "metrics": evaluate(source.net, source.data, source.task, "test"),
        "command": source.card["command"],
        "trained": {"epoch": meta["epoch"], "global_step": meta["global_step"]},
        "license": LICENSE,
        "zoo_version": __version__,
        "created": datetime.date.today().isoformat(),
    }
    hub.save_pretrained(source.net, registry / name, card)
    return hub.read_card(registry / name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a train.py run directory or a .ckpt file")
    parser.add_argument("--name", required=True, help="the registry name, e.g. cnn_digits")
    parser.add_argument("--registry", type=Path, default=hub.REGISTRY)
    args = parser.parse_args(argv)
    card = publish(args.run, args.name, args.registry)
    print(f"{args.registry / args.name}: {card['metrics']} sha256={card['sha256']}")


if __name__ == "__main__":
    main()
