"""Position embeddings: what tells a transformer where each token sits, since attention alone
treats its input as a set (Vaswani et al. 2017)."""

from __future__ import annotations

import math

import torch
from torch import nn

from zoo.utils.builder import register

POSITIONS = ("learned", "sinusoidal", "none")


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """(length, dim) fixed sines and cosines of geometric wavelengths (Vaswani et al. 2017)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(1e4) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: dim // 2])
    return table


@register()
class PositionEmbedding(nn.Module):
    """Adds the embedding of positions `start`, `start + 1`, ... to tokens (N, L, E): `learned`
    (one trained vector per position up to `max_length`), `sinusoidal` (fixed, so rebuilt
    rather than stored in checkpoints) or `none` (the tokens stay a bag)."""

    def __init__(self, kind: str, max_length: int, embed_dim: int) -> None:
        super().__init__()
        if kind not in POSITIONS:
            raise ValueError(f"positions={kind!r}: expected one of {POSITIONS}")
        self.kind, self.max_length, self.embed_dim = kind, max_length, embed_dim
        self.table: torch.Tensor | None
        if kind == "learned":
            self.table = nn.Parameter(torch.randn(max_length, embed_dim) * 0.02)
        elif kind == "sinusoidal":
            self.register_buffer("table", sinusoidal_positions(max_length, embed_dim), False)
        else:
            self.table = None

    def forward(self, tokens: torch.Tensor, start: int = 0) -> torch.Tensor:
        """tokens (N, L, E) -> tokens plus the embeddings of positions start .. start + L - 1."""
        if tokens.dim() != 3 or tokens.shape[-1] != self.embed_dim:
            raise ValueError(
                f"PositionEmbedding expected tokens (N, L, {self.embed_dim}), got "
                f"{tuple(tokens.shape)}"
            )
        end = start + tokens.shape[1]
        if end > self.max_length:
            raise ValueError(
                f"position {end - 1} is beyond the {self.max_length} positions this embedding "
                "was built for: expected at most max_length positions"
            )
        if self.table is None:
            return tokens
        return tokens + self.table[start:end]
