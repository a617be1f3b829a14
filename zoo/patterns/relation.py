"""Relation networks (Santoro et al. 2017): the Siamese idea over N inputs. One shared
function g scores every ordered pair of objects (with the question), the scores are summed,
and f answers from the sum: RN(O, q) = f(sum_{i,j} g(o_i, o_j, q))."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from zoo.blocks.heads import HeadLike, build_head
from zoo.blocks.mlp import MLP
from zoo.blocks.shapes import check_shape
from zoo.patterns.interface import HasHead
from zoo.utils.builder import register


@register()
class RelationNetwork(HasHead):
    """Inputs: objects (N, K, D) in any order and a question (N, Q); the answer's logits come
    from `.head`, the `Head` a plain loop calls: `net.head.loss(net(objects, question), y)`,
    `net.head.predict_proba(logits)`. `g_hidden` and `f_hidden` are the widths of the two MLPs;
    `head` may be a callable taking f's output width (a Hydra partial). Summing over pairs
    makes the output independent of object order."""

    def __init__(
        self,
        input_shape: Sequence[Sequence[int]],
        head: HeadLike,
        g_hidden: Sequence[int] = (128, 128, 128),
        f_hidden: Sequence[int] = (128, 128),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        objects_shape, question_shape = (tuple(int(s) for s in shape) for shape in input_shape)
        self.input_shape = (objects_shape, question_shape)
        (_, object_dim), (question_dim,) = self.input_shape
        self.g = MLP(2 * object_dim + question_dim, g_hidden)
        self.f = MLP(g_hidden[-1], f_hidden, dropout=dropout)
        self.head = build_head(head, f_hidden[-1])

    def forward_features(self, objects: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """objects (N, K, D), question (N, Q) -> the head's logits."""
        check_shape(objects, self.input_shape[0], f"{type(self).__name__} objects")
        check_shape(question, self.input_shape[1], f"{type(self).__name__} question")
        n, k, d = objects.shape
        pairs = torch.cat(
            [
                objects[:, :, None].expand(n, k, k, d),  # o_i
                objects[:, None, :].expand(n, k, k, d),  # o_j
                question[:, None, None].expand(n, k, k, question.shape[1]),
            ],
            dim=-1,
        )
        relations = self.g(pairs.view(n * k * k, -1)).view(n, k * k, -1).sum(1)
        return self.f(relations)

    def forward(self, objects: torch.Tensor, question: torch.Tensor) -> torch.Tensor:
        """Objects (N, K, D) and a question (N, Q) -> the head's logits."""
        return self.head(self.forward_features(objects, question))
