"""Multi-head attention over `scaled_dot_product_attention` (with a key/value cache for
step-by-step decoding), pooling by attention, and transformer encoder and decoder blocks
(Vaswani et al. 2017, "Attention Is All You Need").

`MultiHeadAttention` keeps `nn.MultiheadAttention`'s parameter names and layout, so weights
move between the two with `load_state_dict`; inputs are batch-first (N, L, E).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation
from zoo.utils.builder import register


def _check(x: torch.Tensor, dim: int, name: str, module: str) -> None:
    if x.dim() != 3 or x.shape[-1] != dim:
        raise ValueError(f"{module} expected {name} of shape (N, L, {dim}), got {tuple(x.shape)}")


class KVCache:
    """Keys and values projected at earlier decoding steps, kept per attention layer so that a
    step projects only its new tokens. A `static` cache (cross-attention over a fixed memory)
    is filled once and then reused as it is."""

    def __init__(self, static: bool = False) -> None:
        self.static = static
        self.key: torch.Tensor | None = None
        self.value: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.key is None else self.key.shape[-2]

    def extend(self, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the new heads' keys and values (N, H, L, D); return all of them so far."""
        if self.key is not None:
            assert self.value is not None  # keys and values are always stored together
            key, value = torch.cat([self.key, key], -2), torch.cat([self.value, value], -2)
        self.key, self.value = key, value
        return key, value


@register()
class MultiHeadAttention(nn.Module):
    """Self- or cross-attention with key-padding masks and an optional causal mask.

    `key_padding_mask` (N, S) is True where a key is padding, as in `nn.MultiheadAttention`;
    `causal=True` lets query i attend to keys <= i only (with a cache, to every cached key and
    the new ones up to its own position).
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

    def _weights(self, i: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The projection of queries (0), keys (1) or values (2): (weight, bias)."""
        bias = None if self.in_proj_bias is None else self.in_proj_bias.chunk(3)[i]
        if self.packed:
            return self.in_proj_weight.chunk(3)[i], bias
        return (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)[i], bias

    def _project(self, query, key, value):
        return tuple(F.linear(x, *self._weights(i)) for i, x in enumerate((query, key, value)))

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
        average_heads: bool = True,
        cache: KVCache | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(output (N, L, E), attention weights if `need_weights`: (N, L, S) averaged over the
        heads, or (N, H, L, S) per head). With a `cache`, keys and values of earlier calls are
        attended too, and a static cache's are reused without looking at `key` and `value`."""
        key = query if key is None else key
        value = key if value is None else value
        _check(query, self.embed_dim, "query", "MultiHeadAttention")
        _check(key, self.kdim, "key", "MultiHeadAttention")
        _check(value, self.vdim, "value", "MultiHeadAttention")
        n, length = query.shape[0], query.shape[1]
        if key.shape[:2] != value.shape[:2] or key.shape[0] != n:
            raise ValueError(
                f"key {tuple(key.shape)} and value {tuple(value.shape)} must share (N, S) with N={n}"
            )
        if cache is not None and cache.static and len(cache):
            q = self._heads(F.linear(query, *self._weights(0)))
            k, v = cache.key, cache.value
            assert k is not None and v is not None  # a non-empty cache holds both
        else:
            q, k, v = (self._heads(t) for t in self._project(query, key, value))
            if cache is not None:
                k, v = cache.extend(k, v)
        source = k.shape[-2]
        mask = None  # True = may attend (the convention of scaled_dot_product_attention)
        if key_padding_mask is not None:
            if key_padding_mask.shape != (n, source):
                raise ValueError(
                    f"key_padding_mask must have shape (N, S) = {(n, source)}, got {tuple(key_padding_mask.shape)}"
                )
            mask = ~key_padding_mask.bool()[:, None, None, :]
        if causal:  # the queries are the last `length` positions of the `source` keys
            allowed = torch.ones(length, source, dtype=torch.bool, device=query.device)
            allowed = allowed.tril(source - length)
            mask = allowed if mask is None else mask & allowed
        dropout = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        out = self.out_proj(out.transpose(1, 2).reshape(n, length, self.embed_dim))
        weights = None
        if need_weights:
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = scores.softmax(-1)
            weights = weights.mean(1) if average_heads else weights
        return out, weights


def feed_forward(
    embed_dim: int, mlp_ratio: float, activation: ActivationLike, dropout: float
) -> nn.Sequential:
    """A transformer block's position-wise MLP: widen by `mlp_ratio`, activate, project back."""
    hidden = int(embed_dim * mlp_ratio)
    return nn.Sequential(
        nn.Linear(embed_dim, hidden),
        get_activation(activation),
        nn.Dropout(dropout),
        nn.Linear(hidden, embed_dim),
        nn.Dropout(dropout),
    )


@register()
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


@register()
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
        self.mlp = feed_forward(embed_dim, mlp_ratio, activation, dropout)

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


@register()
class TransformerDecoderBlock(nn.Module):
    """Pre-norm transformer decoder block: x + causal self-attention(LN(x)), x + cross-attention
    (LN(x), memory), then x + MLP(LN(x)) (Vaswani et al. 2017). Each position sees the target
    up to itself and the whole unpadded memory (the encoder's output)."""

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        activation: ActivationLike = "gelu",
    ) -> None:
        super().__init__()
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(embed_dim) for _ in range(3))
        self.self_attention = MultiHeadAttention(embed_dim, num_heads, dropout=dropout)
        self.cross_attention = MultiHeadAttention(embed_dim, num_heads, dropout=dropout)
        self.mlp = feed_forward(embed_dim, mlp_ratio, activation, dropout)

    def new_caches(self) -> tuple[KVCache, KVCache]:
        """Empty (self-attention, cross-attention) caches for decoding one token at a time."""
        return KVCache(), KVCache(static=True)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_padding_mask: torch.Tensor | None = None,
        caches: tuple[KVCache, KVCache] | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (N, T, E), memory (N, S, E), `memory_padding_mask` (N, S) True at padding ->
        (N, T, E) and, with `need_weights`, the cross-attention per head (N, H, T, S). With
        `caches`, x holds only the new positions and earlier ones are read from the caches."""
        _check(x, self.self_attention.embed_dim, "input", "TransformerDecoderBlock")
        self_cache, cross_cache = caches if caches is not None else (None, None)
        h = self.norm1(x)
        x = x + self.self_attention(h, causal=True, cache=self_cache)[0]
        attended, weights = self.cross_attention(
            self.norm2(x),
            memory,
            memory,
            key_padding_mask=memory_padding_mask,
            need_weights=need_weights,
            average_heads=False,
            cache=cross_cache,
        )
        x = x + attended
        return x + self.mlp(self.norm3(x)), weights


@register()
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
