"""Transformer encoder-decoder (Vaswani et al. 2017): the RNN seq2seq's modern form. No
recurrence: the encoder's tokens attend to each other, and each decoder step attends to the
target so far (causal self-attention) and to every source token (cross-attention), so a step
can compare any symbols at once. Order comes only from position embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from zoo.blocks.attention import KVCache, TransformerDecoderBlock, TransformerEncoderBlock
from zoo.blocks.positions import PositionEmbedding
from zoo.blocks.shapes import check_shape
from zoo.patterns.seq2seq import BOS, PAD, padding_mask
from zoo.utils.builder import register


@register()
class TransformerSeq2Seq(nn.Module):
    """Token embedding shared by source and target, plus positions; `encoder_depth` encoder
    blocks and `decoder_depth` decoder blocks (pre-norm), a linear read-out to the vocabulary.

    The same interface as `Seq2Seq`, so `Seq2SeqTask` trains either:
    forward(source, lengths, target_in) -> logits (N, T, vocab), teacher-forced;
    greedy(source, lengths, steps) -> (tokens (N, steps), last layer's cross-attention
    averaged over heads (N, steps, S)), one token at a time through a key/value cache.
    """

    attention_kind = "cross"

    def __init__(
        self,
        vocab_size: int,
        input_shape: Sequence[int],
        embed_dim: int = 64,
        num_heads: int = 4,
        encoder_depth: int = 2,
        decoder_depth: int = 2,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        positions: str = "sinusoidal",
        max_length: int | None = None,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.max_length = max_length or self.input_shape[0] + 1  # the target has one more: end
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.positions = PositionEmbedding(positions, self.max_length, embed_dim)
        self.encoder = nn.ModuleList(
            TransformerEncoderBlock(embed_dim, num_heads, mlp_ratio, dropout)
            for _ in range(encoder_depth)
        )
        self.decoder = nn.ModuleList(
            TransformerDecoderBlock(embed_dim, num_heads, mlp_ratio, dropout)
            for _ in range(decoder_depth)
        )
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(embed_dim), nn.LayerNorm(embed_dim)
        self.out = nn.Linear(embed_dim, vocab_size)

    def encode(
        self, source: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """source tokens (N, S), lengths (N,) -> (memory (N, S, E), padding mask (N, S))."""
        check_shape(source, self.input_shape, "TransformerSeq2Seq source")
        padding = padding_mask(lengths, source.shape[1])
        h = self.positions(self.embed(source))
        for block in self.encoder:
            h = block(h, key_padding_mask=padding)
        return self.encoder_norm(h), padding

    def decode(
        self,
        target_in: torch.Tensor,
        memory: torch.Tensor,
        padding: torch.Tensor,
        caches: list[tuple[KVCache, KVCache]] | None = None,
        start: int = 0,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        """Target tokens at positions start.. (N, T) -> (logits (N, T, vocab), cross-attention
        per decoder layer, each (N, H, T, S) or None)."""
        h = self.positions(self.embed(target_in), start)
        weights = []
        for i, block in enumerate(self.decoder):
            block_caches = None if caches is None else caches[i]
            h, w = block(h, memory, padding, block_caches, need_weights)
            weights.append(w)
        return self.out(self.decoder_norm(h)), weights

    def forward(
        self, source: torch.Tensor, lengths: torch.Tensor, target_in: torch.Tensor
    ) -> torch.Tensor:
        """Teacher forcing: source (N, S), lengths (N,), target_in (N, T) = BOS + target ->
        logits (N, T, vocab) for the next token at each position, all in one pass."""
        memory, padding = self.encode(source, lengths)
        return self.decode(target_in, memory, padding)[0]

    @torch.no_grad()
    def cross_attention(
        self, source: torch.Tensor, lengths: torch.Tensor, target_in: torch.Tensor
    ) -> torch.Tensor:
        """Teacher-forced cross-attention of every head: (N, layers, heads, T, S)."""
        memory, padding = self.encode(source, lengths)
        weights = self.decode(target_in, memory, padding, need_weights=True)[1]
        return torch.stack(cast(list[torch.Tensor], weights), 1)  # need_weights: none is None

    @torch.no_grad()
    def greedy(
        self, source: torch.Tensor, lengths: torch.Tensor, steps: int, cache: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode by feeding back the most likely token, for `steps` steps, from BOS: (tokens
        (N, steps), cross-attention of the last layer averaged over heads (N, steps, S)). With
        `cache`, each step runs only its new token and reads earlier keys and values from the
        caches; without, each step reruns the whole prefix (the same result, quadratic cost)."""
        memory, padding = self.encode(source, lengths)
        prefix = torch.full((len(source), 1), BOS, dtype=torch.long, device=source.device)
        caches = (
            [cast(TransformerDecoderBlock, block).new_caches() for block in self.decoder]
            if cache
            else None
        )
        tokens, weights = [], []
        for t in range(steps):
            step_in, start = (prefix[:, -1:], t) if cache else (prefix, 0)
            logits, w = self.decode(step_in, memory, padding, caches, start, need_weights=True)
            token = logits[:, -1].argmax(-1)
            tokens.append(token)
            weights.append(cast(torch.Tensor, w[-1])[:, :, -1].mean(1))  # need_weights
            prefix = torch.cat([prefix, token[:, None]], 1)
        return torch.stack(tokens, 1), torch.stack(weights, 1)
