"""Sequence to sequence with recurrent networks (Sutskever et al. 2014; Cho et al. 2014), with
optional attention over the encoder's states (Bahdanau et al. 2015; Luong et al. 2015).

Without attention the decoder sees one fixed summary of the source at every step: a
bottleneck that long sequences overflow. With attention it looks back at every source state.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.blocks.attention import AdditiveAttention, MultiHeadAttention
from zoo.blocks.recurrent import RNNEncoder
from zoo.blocks.shapes import check_shape
from zoo.utils.builder import register

ATTENTIONS = (None, "additive", "dot")
PAD, BOS, EOS = 0, 1, 2
"""Token ids every seq2seq model, task and data module shares: padding, begin, end; the
vocabulary's symbols follow them."""


def padding_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """(N, width) True where a position lies beyond its sequence's length: the key-padding
    mask every seq2seq model's attention takes."""
    return torch.arange(width, device=lengths.device)[None] >= lengths[:, None]


@register()
class Seq2Seq(nn.Module):
    """Encoder RNN (packed, optionally bidirectional) and a GRU/LSTM-cell decoder.

    forward(source, lengths, target_in) -> logits (N, T, vocab), teacher-forced;
    greedy(source, lengths, steps) -> (tokens (N, steps), attention weights (N, steps, S) or None).
    """

    def __init__(
        self,
        vocab_size: int,
        input_shape: Sequence[int],
        embed_dim: int = 32,
        hidden_size: int = 64,
        cell: str = "gru",
        bidirectional: bool = True,
        attention: str | None = "additive",
    ) -> None:
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention={attention!r}: expected one of {ATTENTIONS}")
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell={cell!r}: expected 'gru' or 'lstm'")
        self.input_shape, self.cell, self.attention_kind = tuple(input_shape), cell, attention
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.encoder = RNNEncoder(embed_dim, hidden_size, cell, bidirectional=bidirectional)
        memory = self.encoder.out_features
        self.bridge = nn.Linear(memory, hidden_size)
        self.attention: AdditiveAttention | MultiHeadAttention  # absent without attention
        if attention == "additive":
            self.attention = AdditiveAttention(hidden_size, memory, hidden_size)
        elif attention == "dot":
            self.attention = MultiHeadAttention(hidden_size, 1, kdim=memory, vdim=memory)
        context = hidden_size if attention == "dot" else memory
        step = nn.GRUCell if cell == "gru" else nn.LSTMCell
        self.decoder = step(embed_dim + context, hidden_size)
        self.out = nn.Linear(hidden_size + context, vocab_size)

    def encode(self, source: torch.Tensor, lengths: torch.Tensor):
        """source tokens (N, S), lengths (N,) -> (encoder states (N, S, M), summary (N, M),
        padding mask (N, S) True at padding, the decoder's first state)."""
        check_shape(source, self.input_shape, "Seq2Seq source")
        states, summary = self.encoder(self.embed(source), lengths)
        padding = padding_mask(lengths, source.shape[1])
        h = torch.tanh(self.bridge(summary))
        state = h if self.cell == "gru" else (h, torch.zeros_like(h))
        return states, summary, padding, state

    def _context(self, h, states, summary, padding):
        if self.attention_kind is None:
            return summary, None
        if self.attention_kind == "additive":
            return self.attention(h, states, padding)
        context, weights = self.attention(
            h[:, None], states, states, key_padding_mask=padding, need_weights=True
        )
        return context.squeeze(1), weights.squeeze(1)

    def step(self, token, state, states, summary, padding):
        """One decoder step from the previous token: (logits, new state, attention weights)."""
        h = state if self.cell == "gru" else state[0]
        context, weights = self._context(h, states, summary, padding)
        state = self.decoder(torch.cat([self.embed(token), context], -1), state)
        h = state if self.cell == "gru" else state[0]
        return self.out(torch.cat([h, context], -1)), state, weights

    def forward(
        self, source: torch.Tensor, lengths: torch.Tensor, target_in: torch.Tensor
    ) -> torch.Tensor:
        """Teacher forcing: source (N, S), lengths (N,), target_in (N, T) = BOS + target ->
        logits (N, T, vocab) for the next token at each step."""
        states, summary, padding, state = self.encode(source, lengths)
        logits = []
        for t in range(target_in.shape[1]):
            step_logits, state, _ = self.step(target_in[:, t], state, states, summary, padding)
            logits.append(step_logits)
        return torch.stack(logits, 1)

    @torch.no_grad()
    def greedy(self, source: torch.Tensor, lengths: torch.Tensor, steps: int):
        """Decode by feeding back the most likely token, for `steps` steps, from BOS: (tokens
        (N, steps), attention weights (N, steps, S) or None)."""
        states, summary, padding, state = self.encode(source, lengths)
        token = torch.full((len(source),), BOS, dtype=torch.long, device=source.device)
        tokens, weights = [], []
        for _ in range(steps):
            step_logits, state, w = self.step(token, state, states, summary, padding)
            token = step_logits.argmax(-1)
            tokens.append(token)
            weights.append(w)
        attention = torch.stack(weights, 1) if weights[0] is not None else None
        return torch.stack(tokens, 1), attention
