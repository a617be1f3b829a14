"""Recurrent encoders over torch's cells: the vanilla (tanh) RNN, and the gated LSTM
(Hochreiter & Schmidhuber 1997) and GRU (Cho et al. 2014) whose gates keep gradients alive
over long time lags."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from zoo.utils.builder import register

CELLS: dict[str, type[nn.RNN] | type[nn.LSTM] | type[nn.GRU]] = {
    "rnn": nn.RNN,
    "lstm": nn.LSTM,
    "gru": nn.GRU,
}


@register()
class RNNEncoder(nn.Module):
    """Encode (N, T, input_size) into per-step outputs (N, T, D) and a summary (N, D), where
    D = hidden_size x directions. With `lengths`, padding is skipped (packed sequences) and
    the summary is each sequence's last real step (both ends when bidirectional)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: expected one of {sorted(CELLS)}")
        self.input_size, self.cell = input_size, cell
        self.rnn = CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.out_features = hidden_size * (2 if bidirectional else 1)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, T, input_size), optional `lengths` (N,) -> (outputs (N, T, D), summary (N, D))."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"RNNEncoder expected (N, T, {self.input_size}), got {tuple(x.shape)}")
        if lengths is not None:
            if lengths.shape != (x.shape[0],) or lengths.min() < 1 or lengths.max() > x.shape[1]:
                raise ValueError(
                    f"lengths must be (N,) = ({x.shape[0]},) with values in [1, {x.shape[1]}], got {lengths.tolist()}"
                )
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            outputs, state = self.rnn(packed)
            outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
        else:
            outputs, state = self.rnn(x)
        hidden = state[0] if self.cell == "lstm" else state  # (layers * directions, N, H)
        directions = 2 if self.rnn.bidirectional else 1
        summary = torch.cat(list(hidden[-directions:]), dim=-1)
        return outputs, summary
