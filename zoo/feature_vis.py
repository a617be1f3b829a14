"""Feature visualisation ("Inceptionism", Mordvintsev et al. 2015; Simonyan et al. 2014):
gradient ascent on the input to excite a class logit or a channel, kept image-like by simple
regularisers: an L2 penalty, random jitter and an occasional blur.

    python -m zoo.feature_vis cnn_digits --out dreams.png            # one input per class
    python -m zoo.feature_vis cnn_digits --layer backbone.0 --out channels.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.features import tap_features

BLUR = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16


def blur(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 binomial blur of every channel of (N, C, H, W) images, edges replicated."""
    channels = x.shape[1]
    kernel = BLUR.to(x).expand(channels, 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=channels)


def objective(
    net: nn.Module, x: torch.Tensor, targets: torch.Tensor, layer: str | None
) -> torch.Tensor:
    """Per-sample value to maximise: the logit of `targets` (class indices), or with `layer`
    the mean activation of channel `targets` of that layer."""
    if layer is None:
        return net(x).gather(1, targets[:, None]).squeeze(1)
    with tap_features(net, [layer]) as features:
        net(x)
    activation = features[layer]
    chosen = activation[torch.arange(len(x)), targets]
    return chosen.flatten(1).mean(1)


def visualize(
    net: nn.Module,
    targets: list[int],
    low: torch.Tensor,
    high: torch.Tensor,
    layer: str | None = None,
    steps: int = 200,
    lr: float = 0.1,
    l2: float = 0.01,
    jitter: int = 1,
    blur_every: int = 10,
) -> torch.Tensor:
    """One input per target, optimised by Adam from faint noise around the mean input, kept
    within [low, high] (what pixel values 0 and 1 map to). Returns (len(targets), *shape)."""
    net.eval()
    targets_t = torch.tensor(targets)
    middle = (low + high) / 2
    x = middle + 0.01 * (high - low) * torch.randn(len(targets), *low.shape[1:])
    x.requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    for step in range(steps):
        shift = torch.randint(-jitter, jitter + 1, (2,)).tolist() if jitter else [0, 0]
        value = objective(net, torch.roll(x, shifts=shift, dims=(-2, -1)), targets_t, layer)
        loss = -value.sum() + l2 * ((x - middle) ** 2).sum()
        (x.grad,) = torch.autograd.grad(loss, [x])  # no gradient into the weights
        optimizer.step()
        with torch.no_grad():
            if blur_every and (step + 1) % blur_every == 0:
                x.copy_(blur(x))
            x.copy_(x.clamp(low, high))
    return x.detach()


def save_grid(images: torch.Tensor, low: torch.Tensor, high: torch.Tensor, path: Path) -> Path:
    """The images as pixels in [0, 1], side by side in one PNG, enlarged to at least 64 px."""
    from torchvision.utils import save_image

    pixels = ((images - low) / (high - low)).clamp(0, 1)
    scale = max(1, 64 // pixels.shape[-2])
    pixels = F.interpolate(pixels, scale_factor=scale, mode="nearest")
    save_image(pixels, path, nrow=len(images), padding=scale)
    return path


def main(argv: list[str] | None = None) -> None:
    from zoo.sources import build_data, resolve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="model name, model directory or .ckpt file")
    parser.add_argument("--layer", default=None, help="excite channels of this layer instead")
    parser.add_argument("--targets", type=int, nargs="+", default=None, help="classes/channels")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("feature_vis.png"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    try:
        resolved = resolve(args.source)
    except (KeyError, ValueError, FileNotFoundError, RuntimeError) as error:
        raise SystemExit(f"error: {error}") from None
    low, high = build_data(resolved.data).input_range()
    net = resolved.net
    targets = args.targets or list(range(8 if args.layer else net.head.num_outputs))
    images = visualize(net, targets, low, high, args.layer, args.steps)
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
