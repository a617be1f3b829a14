"""Evaluate a pretrained model or a checkpoint on a split of the data it was trained on.

zoo-eval cnn.digits                       # shipped weights
zoo-eval out/cnn                          # a directory from zoo.save_pretrained
zoo-eval logs/.../checkpoints/last.ckpt   # a train.py checkpoint
"""

from __future__ import annotations

import argparse
from typing import Any

from torch import nn

from zoo.cli.common import SOURCE_HELP, or_exit
from zoo.registry.sources import build_data, build_task, resolve


def evaluate(
    net: nn.Module, data: dict[str, Any], task: dict[str, Any], split: str = "test"
) -> dict[str, float]:
    """The task's metrics of `net` on one split (`val` or `test`), reproducible on the CPU."""
    import lightning.pytorch as L

    if split not in ("val", "test"):
        raise ValueError(f"split={split!r}: expected 'val' or 'test'")
    datamodule, evaluation = build_data(data), build_task(task, net.eval())
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    run = trainer.validate if split == "val" else trainer.test
    # seeded last, after building a judge or teacher: stochastic models (a VAE's z, a GAN's
    # noise) score the same each time
    L.seed_everything(0, verbose=False)
    (metrics,) = run(evaluation, datamodule=datamodule, verbose=False)
    return {k: float(v) for k, v in metrics.items()}


def build_parser() -> argparse.ArgumentParser:
    """The `zoo-eval` command line (the documentation is generated from it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help=SOURCE_HELP)
    parser.add_argument("--split", default="test", choices=["val", "test"])
    parser.add_argument(
        "--data-dir", default=None, help="where downloadable datasets live (default: data)"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    source = or_exit(lambda: resolve(args.source, args.data_dir))
    metrics = or_exit(lambda: evaluate(source.net, source.data, source.task, args.split))
    for name, value in sorted(metrics.items()):
        print(f"{name}\t{value:.4f}")


if __name__ == "__main__":
    main()
