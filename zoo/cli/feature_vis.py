"""Feature visualisation ("Inceptionism", Mordvintsev et al. 2015; Simonyan et al. 2014):
gradient ascent on the input to excite a class logit or a channel, kept image-like by simple
regularisers: an L2 penalty, random jitter and an occasional blur.

    zoo-feature-vis cnn.digits --out dreams.png            # one input per class
    zoo-feature-vis cnn.digits --layer backbone.0 --out channels.png
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch

from zoo.analysis.feature_vis import visualize
from zoo.cli.common import SOURCE_HELP, or_exit, positive_int
from zoo.utils.plots import pyplot
from zoo.utils.preprocessing import PretrainedRecord, input_range

if TYPE_CHECKING:
    from zoo.blocks.heads import Head

PANEL = 0.95  # inches: the side of each optimised image


def feature_vis_figure(
    pixels: torch.Tensor, targets: list[int], kind: str, confidence: torch.Tensor | None = None
) -> Any:
    """The optimised inputs (pixels in [0, 1]) side by side, each titled by the class or
    channel it excites (and the net's confidence in that class), on a white-to-black scale."""
    plt = pyplot()
    width = PANEL * len(targets) + 1.2  # the panels and the colour bar
    title = textwrap.fill(
        f"inputs optimised to excite each {kind} (gradient ascent from grey noise)",
        width=max(int(width / 0.09), 30),  # characters of 10-point text across the figure
    )
    titles = 2 if confidence is not None else 1
    height = PANEL + 0.35 + 0.17 * (titles + title.count("\n") + 1)
    fig, axes = plt.subplots(
        1, len(targets), figsize=(width, height), squeeze=False, layout="constrained"
    )
    fig.get_layout_engine().set(wspace=0.02)
    for i, (ax, target) in enumerate(zip(axes[0], targets, strict=True)):
        image = ax.imshow(pixels[i].mean(0).cpu().numpy(), cmap="gray_r", vmin=0, vmax=1)
        name = f"{kind} {target}"
        ax.set_title(
            name + (f"\np={confidence[i]:.2f}" if confidence is not None else ""), fontsize=9
        )
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(image, ax=list(axes[0]), fraction=0.05, aspect=10)
    bar.set_label("ink (0 = blank,\n1 = full)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def save_grid(
    images: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
    path: Path,
    targets: list[int],
    kind: str = "class",
    confidence: torch.Tensor | None = None,
) -> Path:
    """The images as pixels in [0, 1], side by side in one titled PNG."""
    pixels = ((images - low) / (high - low)).clamp(0, 1)
    fig = feature_vis_figure(pixels, targets, kind, confidence)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    from zoo.registry import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help=SOURCE_HELP)
    parser.add_argument("--layer", default=None, help="excite channels of this layer instead")
    parser.add_argument("--targets", type=int, nargs="+", default=None, help="classes/channels")
    parser.add_argument("--steps", type=positive_int, default=200)
    parser.add_argument("--out", type=Path, default=Path("feature_vis.png"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    net = or_exit(lambda: load_model(args.source))
    low, high = input_range(cast(PretrainedRecord, net.pretrained_cfg))
    targets = args.targets or list(range(8 if args.layer else cast("Head", net.head).num_outputs))
    images = or_exit(lambda: visualize(net, targets, low, high, args.layer, args.steps))
    confidence = None
    if args.layer is None:
        with torch.no_grad():
            head = cast("Head", net.head)
            confidence = head.predict_proba(net(images))[torch.arange(len(targets)), targets]
        print(
            "target confidence: "
            + " ".join(f"{t}:{c:.3f}" for t, c in zip(targets, confidence, strict=True))
        )
    kind = "channel" if args.layer else "class"
    print(f"grid: {save_grid(images, low, high, args.out, targets, kind, confidence)}")


if __name__ == "__main__":
    main()
