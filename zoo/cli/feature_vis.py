"""Feature visualisation ("Inceptionism", Mordvintsev et al. 2015; Simonyan et al. 2014):
gradient ascent on the input to excite a class logit or a channel, kept image-like by simple
regularisers: an L2 penalty, random jitter and an occasional blur.

    zoo-feature-vis cnn.digits --out dreams.png            # one input per class
    zoo-feature-vis cnn.digits --layer backbone.0 --out channels.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from zoo.analysis.feature_vis import visualize
from zoo.cli.common import SOURCE_HELP, or_exit, positive_int
from zoo.preprocessing import input_range


def save_grid(images: torch.Tensor, low: torch.Tensor, high: torch.Tensor, path: Path) -> Path:
    """The images as pixels in [0, 1], side by side in one PNG, enlarged to at least 64 px."""
    from torchvision.utils import save_image

    pixels = ((images - low) / (high - low)).clamp(0, 1)
    scale = max(1, 64 // pixels.shape[-2])
    pixels = F.interpolate(pixels, scale_factor=scale, mode="nearest")
    save_image(pixels, path, nrow=len(images), padding=scale)
    return path


def main(argv: list[str] | None = None) -> None:
    from zoo.hub import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help=SOURCE_HELP)
    parser.add_argument("--layer", default=None, help="excite channels of this layer instead")
    parser.add_argument("--targets", type=int, nargs="+", default=None, help="classes/channels")
    parser.add_argument("--steps", type=positive_int, default=200)
    parser.add_argument("--out", type=Path, default=Path("feature_vis.png"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    net = or_exit(lambda: load_model(args.source))
    low, high = input_range(net.pretrained_cfg)
    targets = args.targets or list(range(8 if args.layer else net.head.num_outputs))
    images = or_exit(lambda: visualize(net, targets, low, high, args.layer, args.steps))
    if args.layer is None:
        with torch.no_grad():
            confidence = net.head.predict_proba(net(images))[torch.arange(len(targets)), targets]
        print(
            "target confidence: "
            + " ".join(f"{t}:{c:.3f}" for t, c in zip(targets, confidence, strict=True))
        )
    print(f"grid: {save_grid(images, low, high, args.out)}")


if __name__ == "__main__":
    main()
