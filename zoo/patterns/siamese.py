"""Siamese networks (Bromley et al. 1993; Koch, Zemel & Salakhutdinov 2015): one encoder,
shared by every input, so that alike inputs map to nearby embeddings."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.heads import HeadLike, build_head
from zoo.blocks.merge import DISTANCES, FEATURE_MERGES, MERGES, merge_width, similarity
from zoo.blocks.shapes import check_shape, output_width
from zoo.utils.builder import register


@register()
class Siamese(nn.Module):
    """`embed(x)` is the shared encoder's flattened output (unit length if `normalize`).

    Called on one input it returns embeddings; on a pair `(a, b)`, one score per pair (higher
    means "same"); on a triplet `(anchor, positive, negative)`, the two scores. All inputs go
    through the encoder in one batch, so the two branches are one set of weights by construction.

    The score is `head(merge(ea, eb))` when there is a head (Koch et al.: a sigmoid over a
    weighted L1 distance is `merge="abs"` with a `BinaryHead`), else the similarity of a distance
    merge (`cosine`, or minus the `euclidean` distance). `head` may be a callable taking the
    merged width (a Hydra partial). `.head` (None without one) scores pairs: a plain loop
    trains it with `net.head.loss(net(a, b), same)` and reads `net.head.predict_proba(...)`.
    """

    def __init__(
        self,
        encoder: nn.Module,
        input_shape: Sequence[int],
        merge: str = "euclidean",
        head: HeadLike | None = None,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.encoder, self.normalize = encoder, normalize
        self.embedding_dim = output_width(encoder, self.input_shape)
        width = merge_width(merge, self.embedding_dim)
        if head is None and merge in FEATURE_MERGES:
            raise ValueError(
                f"merge={merge!r} gives {width} features per pair: it needs a head to score them "
                f"(or use a distance merge: {sorted(DISTANCES)})"
            )
        self.merge = merge
        self.head = None if head is None else build_head(head, width)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """`(N, *input_shape)` -> (N, embedding_dim)."""
        check_shape(x, self.input_shape, type(self).__name__)
        z = self.encoder(x).flatten(1)
        return F.normalize(z, dim=1) if self.normalize else z

    def compare(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Scores (N,) of embedding pairs: the head's logit, or the distance merge's similarity."""
        if self.head is None:
            return similarity(self.merge, a, b)
        merged = MERGES[self.merge](a, b)
        return self.head(merged.unsqueeze(-1) if self.merge in DISTANCES else merged)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """x -> embeddings (N, embedding_dim); (a, b) -> scores (N,); (anchor, positive,
        negative) -> (positive scores, negative scores)."""
        if not 1 <= len(inputs) <= 3 or len({len(x) for x in inputs}) != 1:
            raise ValueError(
                f"{type(self).__name__} takes 1, 2 or 3 inputs of the same batch size, got "
                f"{[tuple(x.shape) for x in inputs]}"
            )
        for x in inputs:
            check_shape(x, self.input_shape, type(self).__name__)
        embeddings = self.embed(torch.cat(inputs)).chunk(len(inputs))
        if len(inputs) == 1:
            return embeddings[0]
        if len(inputs) == 2:
            return self.compare(*embeddings)
        anchor, positive, negative = embeddings
        return self.compare(anchor, positive), self.compare(anchor, negative)
