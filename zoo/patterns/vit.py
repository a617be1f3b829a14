"""Vision transformer (Dosovitskiy et al. 2021): an image cut into patches, each patch a token,
transformer encoder blocks over the tokens. The CNN classifier's modern form: no convolution
beyond the patch projection, so where things are must come from position embeddings. A signal
(C, L) is cut into segments of `patch_size` steps the same way (e.g. MNIST-1D)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import cast

import torch
from torch import nn

from zoo.blocks.attention import AttentionPooling, TransformerEncoderBlock
from zoo.blocks.positions import POSITIONS, sinusoidal_positions
from zoo.blocks.shapes import check_shape
from zoo.utils.builder import register

POOLS = ("cls", "attention")


@register()
class PatchEmbedding(nn.Module):
    """Non-overlapping `patch_size` x `patch_size` patches, each projected linearly to
    `embed_dim` (a convolution whose stride is its kernel): (N, C, H, W) -> (N, L, E).
    `dims=1`: segments of `patch_size` steps of signals (N, C, L) -> (N, L/p, E)."""

    def __init__(self, in_channels: int, patch_size: int, embed_dim: int, dims: int = 2) -> None:
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(
                f"PatchEmbedding takes dims=1 (signals (N, C, L)) or 2 (images), got {dims}"
            )
        self.in_channels, self.patch_size, self.dims = in_channels, patch_size, dims
        conv = nn.Conv2d if dims == 2 else nn.Conv1d
        self.projection = conv(in_channels, embed_dim, patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W), H and W multiples of the patch size -> tokens `(N, H*W/p², E)`; with
        `dims=1`, (N, C, L), L a multiple of the patch size -> tokens (N, L/p, E)."""
        p = self.patch_size
        if (
            x.dim() != self.dims + 2
            or x.shape[1] != self.in_channels
            or any(size % p for size in x.shape[2:])
        ):
            what = (
                "images (N, {}, H, W) with H and W"
                if self.dims == 2
                else "signals (N, {}, L) with L"
            )
            raise ValueError(
                f"PatchEmbedding expected {what.format(self.in_channels)} multiples of {p}, "
                f"got {tuple(x.shape)}"
            )
        return self.projection(x).flatten(2).transpose(1, 2)


@register()
class ViTEncoder(nn.Module):
    """Image (N, C, H, W) -> features (N, E): patch tokens plus position embeddings (`learned`,
    `sinusoidal` or `none`, which leaves the patches a bag), `depth` pre-norm transformer
    blocks, a final layer norm, and a pooled summary: a class token (`pool="cls"`) or a learned
    query attending over the patches (`"attention"`). `attention_rollout` shows what it reads.
    An `input_shape` (C, L) takes signals (N, C, L), cut into L / patch_size segments."""

    def __init__(
        self,
        input_shape: Sequence[int],
        patch_size: int = 2,
        embed_dim: int = 64,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 2.0,
        dropout: float = 0.0,
        positions: str = "learned",
        pool: str = "cls",
    ) -> None:
        super().__init__()
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (2, 3):
            raise ValueError(
                f"ViTEncoder takes images (C, H, W) or signals (C, L), got input_shape {shape}"
            )
        channels, *sizes = shape
        if any(size % patch_size for size in sizes):
            what = "image's height and width" if len(sizes) == 2 else "signal's length"
            raise ValueError(
                f"patch_size={patch_size} must divide the {what}, got {' x '.join(map(str, sizes))}"
            )
        if positions not in POSITIONS:
            raise ValueError(f"positions={positions!r}: expected one of {POSITIONS}")
        if pool not in POOLS:
            raise ValueError(f"pool={pool!r}: expected one of {POOLS}")
        self.input_shape, self.pool_kind = shape, pool
        self.grid = tuple(size // patch_size for size in sizes)
        self.patches = PatchEmbedding(channels, patch_size, embed_dim, dims=len(sizes))
        tokens = math.prod(self.grid) + (pool == "cls")
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if pool == "cls" else None
        self.positions: torch.Tensor | None
        if positions == "learned":
            self.positions = nn.Parameter(torch.randn(1, tokens, embed_dim) * 0.02)
        elif positions == "sinusoidal":  # fixed, so rebuilt rather than stored in checkpoints
            table = sinusoidal_positions(tokens, embed_dim)[None]
            self.register_buffer("positions", table, persistent=False)
        else:  # a bag of patches
            self.positions = None
        self.blocks = nn.ModuleList(
            TransformerEncoderBlock(embed_dim, num_heads, mlp_ratio, dropout) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim)
        self.pooling = AttentionPooling(embed_dim, num_heads) if pool == "attention" else None

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) or (N, C, L) -> (N, tokens, E): patch embeddings, the class token
        first, plus positions."""
        check_shape(x, self.input_shape, type(self).__name__)
        tokens = self.patches(x)
        if self.cls_token is not None:
            tokens = torch.cat([self.cls_token.expand(len(x), -1, -1), tokens], dim=1)
        return tokens if self.positions is None else tokens + self.positions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images `(N, *input_shape)` -> the pooled summary (N, E)."""
        h = self.tokens(x)
        for block in self.blocks:
            h = block(h)
        h = self.norm(h)
        return h[:, 0] if self.pooling is None else self.pooling(h)

    @torch.no_grad()
    def attention_rollout(self, x: torch.Tensor) -> torch.Tensor:
        """(N, grid_h, grid_w): how much the summary draws on each patch, attention multiplied
        through the layers with the residual path as half of each (Abnar & Zuidema 2020);
        (N, segments) for signals."""
        h = self.tokens(x)
        eye = torch.eye(h.shape[1], device=h.device)
        rollout = eye.expand(len(x), -1, -1)
        for block in cast(Iterable[TransformerEncoderBlock], self.blocks):
            h, weights = block.forward_with_weights(h)
            assert weights is not None  # need_weights defaults to True
            mixed = 0.5 * weights + 0.5 * eye
            rollout = (mixed / mixed.sum(-1, keepdim=True)) @ rollout
        if self.pooling is None:
            read = rollout[:, 0, 1:]  # the class token's row, over the patches
        else:
            query = self.pooling.query.expand(len(x), -1, -1)
            _, pooled = self.pooling.attention(query, self.norm(h), need_weights=True)
            read = (pooled @ rollout).squeeze(1)
        read = read / read.sum(-1, keepdim=True)
        return read.view(len(x), *self.grid)
