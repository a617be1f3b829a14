"""Fusing the feature vectors of several inputs (modalities) into one.

| fusion    | output                                                  | source                  |
| concat    | [p_1, ..., p_M]                                        | early/late fusion        |
| sum       | p_1 + ... + p_M                                         |                          |
| gated     | sum_m z_m * tanh(p_m), z = softmax_m(W [p_1..p_M])      | Arevalo et al. 2017 (GMU)|
| film      | gamma(p_2..p_M) * p_1 + beta(p_2..p_M)                  | Perez et al. 2018        |
| attention | mean of a transformer block over the M modality tokens  | Vaswani et al. 2017      |

Every input is first projected to `dim` features (p_m = W_m x_m), so the modalities may have
any widths.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.attention import TransformerEncoderBlock
from zoo.blocks.film import FiLMGenerator, film
from zoo.utils.builder import register

FUSIONS = ("concat", "sum", "gated", "film", "attention")
"""The ways `Fusion` combines several inputs' features (the table above)."""


@register()
class Fusion(nn.Module):
    """Fuse M vectors of widths `widths` by `kind` (one of `FUSIONS`); `out_features` says
    how wide the result is."""

    def __init__(self, kind: str, widths: Sequence[int], dim: int = 64, num_heads: int = 4) -> None:
        super().__init__()
        if kind not in FUSIONS:
            raise ValueError(f"fusion={kind!r}: expected one of {FUSIONS}")
        if kind == "film" and len(widths) < 2:
            raise ValueError(
                "fusion='film' needs at least two inputs: one to modulate, one to condition"
            )
        self.kind, self.widths = kind, tuple(widths)
        self.project = nn.ModuleList(nn.Linear(w, dim) for w in widths)
        m = len(widths)
        self.out_features = dim * m if kind == "concat" else dim
        if kind == "gated":
            self.gate = nn.Linear(dim * m, dim * m)
        elif kind == "film":
            self.film = FiLMGenerator(dim * (m - 1), dim)
        elif kind == "attention":
            self.modality = nn.Parameter(torch.zeros(m, dim))
            self.block = TransformerEncoderBlock(dim, num_heads, mlp_ratio=2.0)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """M vectors (N, widths[m]) -> one (N, out_features)."""
        got = [x.shape[-1] for x in inputs]
        if tuple(got) != self.widths:
            raise ValueError(
                f"Fusion({self.kind!r}) expected widths {list(self.widths)}, got {got}"
            )
        p = [proj(x) for proj, x in zip(self.project, inputs, strict=True)]
        if self.kind == "concat":
            return torch.cat(p, dim=-1)
        if self.kind == "sum":
            return torch.stack(p).sum(0)
        if self.kind == "gated":
            z = self.gate(torch.cat(p, dim=-1)).view(-1, len(p), p[0].shape[-1]).softmax(1)
            return (z * torch.stack(p, 1).tanh()).sum(1)
        if self.kind == "film":
            return film(p[0], *self.film(torch.cat(p[1:], dim=-1)))
        tokens = torch.stack(p, 1) + self.modality
        return self.block(tokens).mean(1)
