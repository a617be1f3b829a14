"""Random views of images, drawn per sample on the images' device: what self-supervised
contrastive learning asks the encoder to see through (Chen et al. 2020, "SimCLR")."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from zoo.utils.builder import register


@register()
class RandomViews(nn.Module):
    """Each image (N, C, H, W) rotated by up to `rotation` degrees, scaled by a factor in
    `scale`, shifted by up to `shift` of its size, and, with probability `erase`, with a
    random square of `erase_size` of its side set to the background; plus Gaussian `noise`.
    Applied only in training mode unless called with `always=True`."""

    def __init__(
        self,
        rotation: float = 15.0,
        scale: tuple[float, float] = (0.8, 1.1),
        shift: float = 0.15,
        erase: float = 0.5,
        erase_size: float = 0.4,
        noise: float = 0.05,
    ) -> None:
        super().__init__()
        low, high = scale
        if not 0 < low <= high:
            raise ValueError(f"scale={list(scale)}: expected 0 < low <= high")
        for name, value in (("erase", erase), ("erase_size", erase_size), ("shift", shift)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name}={value}: expected a fraction in [0, 1]")
        self.rotation, self.scale, self.shift = rotation, (low, high), shift
        self.erase, self.erase_size, self.noise = erase, erase_size, noise

    def forward(self, x: torch.Tensor, always: bool = False) -> torch.Tensor:
        """(N, C, H, W) -> a random view of each image, the same shape."""
        if x.dim() != 4:
            raise ValueError(f"RandomViews expected images (N, C, H, W), got {tuple(x.shape)}")
        if not (self.training or always):
            return x
        n, device = len(x), x.device

        def uniform(low: float, high: float) -> torch.Tensor:
            return torch.empty(n, device=device).uniform_(low, high)

        angle = uniform(-1, 1) * math.radians(self.rotation)
        zoom = uniform(*self.scale)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        shift = uniform(-1, 1) * 2 * self.shift, uniform(-1, 1) * 2 * self.shift
        theta = torch.stack(
            [torch.stack([cos, -sin, shift[0]], 1), torch.stack([sin, cos, shift[1]], 1)], 1
        )
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        background = x[:, :, :1, :1]
        view = F.grid_sample(x - background, grid, align_corners=False) + background
        if self.erase:
            h, w = x.shape[-2:]
            side = max(1, round(self.erase_size * min(h, w)))
            top = (torch.rand(n, device=device) * (h - side + 1)).long()
            left = (torch.rand(n, device=device) * (w - side + 1)).long()
            rows, cols = torch.arange(h, device=device), torch.arange(w, device=device)
            inside_rows = (rows[None] >= top[:, None]) & (rows[None] < (top + side)[:, None])
            inside_cols = (cols[None] >= left[:, None]) & (cols[None] < (left + side)[:, None])
            square = inside_rows[:, :, None] & inside_cols[:, None, :]
            chosen = torch.rand(n, device=device) < self.erase
            view = torch.where((square & chosen[:, None, None])[:, None], background, view)
        return view + self.noise * torch.randn_like(view)
