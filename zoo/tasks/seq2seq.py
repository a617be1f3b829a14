"""Sequence-to-sequence learning: teacher-forced cross-entropy, scored by greedy decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from zoo.patterns.seq2seq import EOS, PAD
from zoo.tasks.base import ZooTask
from zoo.utils.builder import register

if TYPE_CHECKING:
    from typing import Protocol

    class GreedyDecoder(Protocol):
        """What Seq2SeqTask needs of its net: greedy decoding to (tokens, attention or None)."""

        def greedy(
            self, source: torch.Tensor, lengths: torch.Tensor, steps: int
        ) -> tuple[torch.Tensor, torch.Tensor | None]: ...


def exact_match(predicted: torch.Tensor, target_out: torch.Tensor) -> torch.Tensor:
    """(N,) bool: every token up to and including the end token is right."""
    relevant = target_out != PAD
    return ((predicted[:, : target_out.shape[1]] == target_out) | ~relevant).all(1)


@register("task")
class Seq2SeqTask(ZooTask):
    """Batches are (source, lengths, target_in, target_out). Logs `stage/loss` (per token),
    and on val/test `stage/token_acc` (teacher-forced) and `stage/exact` (greedy decoding,
    whole sequence right).

    `word_dropout` hides that share of the teacher-forced symbols from the decoder while
    training (each replaced by padding; Bowman et al. 2016), so it must read the source rather
    than lean on the symbol it just emitted."""

    logged = ("{stage}/token_acc", "{stage}/exact")

    def __init__(self, net: nn.Module, *, word_dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(net, **kwargs)
        if not 0 <= word_dropout < 1:
            raise ValueError(f"task.word_dropout must lie in [0, 1), got {word_dropout}")
        self.word_dropout = word_dropout

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        source, lengths, target_in, target_out = batch
        if stage == "train" and self.word_dropout:
            hidden = torch.rand(target_in.shape, device=target_in.device) < self.word_dropout
            target_in = target_in.masked_fill(hidden & (target_in > EOS), PAD)
        logits = self.net(source, lengths, target_in)
        loss = F.cross_entropy(logits.flatten(0, 1), target_out.flatten(), ignore_index=PAD)
        self.log_loss(stage, loss, len(source))
        if stage != "train":
            mask = target_out != PAD
            token_acc = (logits.argmax(-1) == target_out)[mask].float().mean()
            net = cast("GreedyDecoder", self.net)
            predicted, _ = net.greedy(source, lengths, target_out.shape[1])
            exact = exact_match(predicted, target_out).float().mean()
            self.log_epoch({f"{stage}/token_acc": token_acc, f"{stage}/exact": exact}, len(source))
        return loss
