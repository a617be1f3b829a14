"""Feature visualisation ("Inceptionism", Mordvintsev et al. 2015; Simonyan et al. 2014):
gradient ascent on the input to excite a class logit or a channel, kept image-like by simple
regularisers: an L2 penalty, random jitter and an occasional blur."""

from __future__ import annotations

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
        activation = net(x)
    else:
        with tap_features(net, [layer]) as features:
            net(x)
        activation = features[layer]
    if targets.min() < 0 or targets.max() >= activation.shape[1]:
        where = f"channels of {layer}" if layer else "outputs"
        raise ValueError(
            f"targets {targets.tolist()}: expected indices in [0, {activation.shape[1]}), "
            f"the {where}"
        )
    if layer is None:
        return activation.gather(1, targets[:, None]).squeeze(1)
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
