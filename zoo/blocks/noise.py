"""Input corruption for denoising autoencoders (Vincent et al. 2008): the model sees a damaged
input and must reconstruct the clean one."""

from __future__ import annotations

import torch

CORRUPTIONS = ("mask", "gaussian")


def corrupt(
    x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`mask`: zero each value with probability `level`; `gaussian`: add N(0, level^2) noise."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"corruption {kind!r}: expected one of {CORRUPTIONS}")
    if not 0 <= level <= (1 if kind == "mask" else float("inf")):
        raise ValueError(f"corruption level {level} out of range for {kind!r}")
    if kind == "mask":
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= level
        return x * keep
    return x + level * torch.randn(x.shape, generator=generator, device=x.device)
