"""Answer a query from a set of items: encode the items, read them with the query, decode.

`read="attention"`: the query attends over the items (multi-head attention), so it can pick
the one item it needs. `read="mean"`: the same model with uniform weights instead of attention
(a Deep Sets-style pooling, Zaheer et al. 2017): the ablation that shows what attention adds.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.attention import MultiHeadAttention
from zoo.blocks.heads import HeadLike, build_head
from zoo.blocks.shapes import check_shape
from zoo.patterns.interface import HasHead
from zoo.utils.builder import register

READS = ("attention", "mean")


@register()
class MemoryReader(HasHead):
    """items (N, L, F) and query (N, Q) -> head(MLP([read(query, items), query])).

    `head` may be a callable taking the width `dim` (a Hydra partial).
    `.head` is the `Head`: a plain loop trains with `net.head.loss(net(items, query), y)` and
    reads probabilities with `net.head.predict_proba(net(items, query))`. timm's interface
    (`HasHead`): `forward_features` is what the head reads, `reset_classifier(n)` replaces it.
    """

    def __init__(
        self,
        input_shape: Sequence[Sequence[int]],
        head: HeadLike,
        dim: int = 64,
        num_heads: int = 4,
        read: str = "attention",
    ) -> None:
        super().__init__()
        if read not in READS:
            raise ValueError(f"read={read!r}: expected one of {READS}")
        items_shape, query_shape = (tuple(int(s) for s in shape) for shape in input_shape)
        self.input_shape, self.read, self.dim = (items_shape, query_shape), read, dim
        self.items = nn.Sequential(nn.Linear(items_shape[-1], dim), nn.ReLU(), nn.Linear(dim, dim))
        self.query = nn.Linear(query_shape[0], dim)
        self.attention = MultiHeadAttention(dim, num_heads) if read == "attention" else None
        self.decoder = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU())
        self.head = build_head(head, dim)

    def features_width(self) -> int:
        """The width of `forward_features`: `dim`."""
        return self.dim

    def forward_features(self, items: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """items (N, L, F), query (N, Q) -> the features the head reads (N, dim)."""
        return self._read(items, query, need_weights=False)[0]

    def forward(self, items: torch.Tensor, query: torch.Tensor, need_weights: bool = False):
        """items (N, L, F), query (N, Q) -> the head's logits; with `need_weights`, also the
        attention weights over the items (N, 1, L) (None for `read="mean"`)."""
        features, weights = self._read(items, query, need_weights)
        out = self.head(features)
        return (out, weights) if need_weights else out

    def _read(
        self, items: torch.Tensor, query: torch.Tensor, need_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The features (N, dim) and, with `need_weights`, the attention weights."""
        check_shape(items, self.input_shape[0], "MemoryReader items")
        check_shape(query, self.input_shape[1], "MemoryReader query")
        memory, q = self.items(items), self.query(query)
        if self.attention is not None:
            read, weights = self.attention(q[:, None], memory, memory, need_weights=need_weights)
            read = read.squeeze(1)
        else:
            read, weights = memory.mean(1), None
        return self.decoder(torch.cat([read, q], dim=-1)), weights
