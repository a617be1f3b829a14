"""Multi-head attention over `scaled_dot_product_attention`, pooling by attention, and a
transformer encoder block (Vaswani et al. 2017, "Attention Is All You Need").

`MultiHeadAttention` keeps `nn.MultiheadAttention`'s parameter names and layout, so weights
move between the two with `load_state_dict`; inputs are batch-first (N, L, E).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation


def _check(x: torch.Tensor, dim: int, name: str, module: str) -> None:
    if x.dim() != 3 or x.shape[-1] != dim:
        raise ValueError(f"{module} expected {name} of shape (N, L, {dim}), got {tuple(x.shape)}")


class MultiHeadAttention(nn.Module):
    """Self- or cross-attention with key-padding masks and an optional causal mask.

    `key_padding_mask` (N, S) is True where a key is padding, as in `nn.MultiheadAttention`;
    `causal=True` lets position i attend to positions <= i only.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        kdim: int | None = None,
        vdim: int | None = None,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self.packed = self.kdim == embed_dim and self.vdim == embed_dim
        if self.packed:
            self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        else:
            self.q_proj_weight = nn.Parameter(torch.empty(embed_dim, embed_dim))
            self.k_proj_weight = nn.Parameter(torch.empty(embed_dim, self.kdim))
            self.v_proj_weight = nn.Parameter(torch.empty(embed_dim, self.vdim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform projections and zero biases, as `nn.MultiheadAttention` starts."""
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            if hasattr(self, name):
                nn.init.xavier_uniform_(getattr(self, name))
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)

    def _project(self, query, key, value):
        b = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None,) * 3
        if self.packed:
            w = self.in_proj_weight.chunk(3)
        else:
            w = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return F.linear(query, w[0], b[0]), F.linear(key, w[1], b[1]), F.linear(value, w[2], b[2])

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        return x.view(n, length, self.num_heads, -1).transpose(1, 2)  # (N, H, L, D)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
        causal: bool = False,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(output (N, L, E), head-averaged attention weights (N, L, S) if `need_weights`)."""
        key = query if key is None else key
        value = key if value is None else value
        _check(query, self.embed_dim, "query", "MultiHeadAttention")
        _check(key, self.kdim, "key", "MultiHeadAttention")
        _check(value, self.vdim, "value", "MultiHeadAttention")
        n, length, source = query.shape[0], query.shape[1], key.shape[1]
        if key.shape[:2] != value.shape[:2] or key.shape[0] != n:
            raise ValueError(
                f"key {tuple(key.shape)} and value {tuple(value.shape)} must share (N, S) with N={n}"
            )
        mask = None  # True = may attend (the convention of scaled_dot_product_attention)
        if key_padding_mask is not None:
            if key_padding_mask.shape != (n, source):
                raise ValueError(
                    f"key_padding_mask must have shape (N, S) = {(n, source)}, got {tuple(key_padding_mask.shape)}"
                )
            mask = ~key_padding_mask.bool()[:, None, None, :]
        if causal:
            allowed = torch.ones(length, source, dtype=torch.bool, device=query.device).tril()
            mask = allowed if mask is None else mask & allowed
        q, k, v = (self._heads(t) for t in self._project(query, key, value))
        dropout = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        out = self.out_proj(out.transpose(1, 2).reshape(n, length, self.embed_dim))
        weights = None
        if need_weights:
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(-1).mean(1)
        return out, weights


class AttentionPooling(nn.Module):
    """Pool a set or sequence (N, L, E) into (N, E) with a learned query that attends over it
    (pooling by multi-head attention, Lee et al. 2019, "Set Transformer")."""

    def __init__(self, embed_dim: int, num_heads: int = 1) -> None:
        super().__init__()
        self.query = nn.Parameter(torch.randn(1, 1, embed_dim) / math.sqrt(embed_dim))
        self.attention = MultiHeadAttention(embed_dim, num_heads)

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A set (N, L, E), `key_padding_mask` (N, L) True at padding -> pooled (N, E)."""
        query = self.query.expand(x.shape[0], -1, -1)
        pooled, _ = self.attention(query, x, x, key_padding_mask=key_padding_mask)
        return pooled.squeeze(1)


class TransformerEncoderBlock(nn.Module):
    """Pre-norm transformer block: x + MHA(LN(x)), then x + MLP(LN(x)) (Xiong et al. 2020)."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        activation: ActivationLike = "gelu",
        causal: bool = False,
    ) -> None:
        super().__init__()
        self.causal = causal
        self.norm1, self.norm2 = nn.LayerNorm(embed_dim), nn.LayerNorm(embed_dim)
        self.attention = MultiHeadAttention(embed_dim, num_heads, dropout=dropout)
        hidden = int(embed_dim * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(embed_dim, hidden),
            get_activation(activation),
            nn.Dropout(dropout),
            nn.Linear(hidden, embed_dim),
            nn.Dropout(dropout),
        )

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(N, L, E) -> (N, L, E); `key_padding_mask` (N, L) is True at padding."""
        return self.forward_with_weights(x, key_padding_mask, need_weights=False)[0]

    def forward_with_weights(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The output and the head-averaged attention weights (N, L, L), e.g. for rollout."""
        _check(x, self.attention.embed_dim, "input", "TransformerEncoderBlock")
        h = self.norm1(x)
        attended, weights = self.attention(
            h, key_padding_mask=key_padding_mask, causal=self.causal, need_weights=need_weights
        )
        x = x + attended
        return x + self.mlp(self.norm2(x)), weights


class AdditiveAttention(nn.Module):
    """score(q, k_j) = v^T tanh(W q + U k_j), softmax over the unmasked keys (Bahdanau et al.
    2015). Returns the weighted sum of the keys (N, key_dim) and the weights (N, S)."""

    def __init__(self, query_dim: int, key_dim: int, hidden: int) -> None:
        super().__init__()
        self.query_dim, self.key_dim = query_dim, key_dim
        self.query_proj = nn.Linear(query_dim, hidden, bias=False)
        self.key_proj = nn.Linear(key_dim, hidden)
        self.score = nn.Linear(hidden, 1, bias=False)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, key_padding_mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """query (N, query_dim), keys (N, S, key_dim), `key_padding_mask` (N, S) True at
        padding -> (context (N, key_dim), weights (N, S))."""
        if query.dim() != 2 or query.shape[1] != self.query_dim:
            raise ValueError(
                f"AdditiveAttention expected query (N, {self.query_dim}), got {tuple(query.shape)}"
            )
        _check(keys, self.key_dim, "keys", "AdditiveAttention")
        scores = self.score(
            torch.tanh(self.query_proj(query)[:, None] + self.key_proj(keys))
        ).squeeze(-1)
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask, float("-inf"))
        weights = scores.softmax(-1)
        return (weights[..., None] * keys).sum(1), weights
