"""Losses that shape an embedding space from class labels, over all the pairs (or triplets)
of a batch: contrastive and triplet (from pytorch-metric-learning), and Koch-style pair
verification through the network's own head; or a softmax classifier over the training
classes, whose features before the classifier are the embedding (`MetricLearningTask`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn


def pair_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean (B, B) masks of the distinct pairs i < j with the same / a different label."""
    same = labels[:, None] == labels[None, :]
    upper = torch.ones_like(same).triu(1)
    return same & upper, ~same & upper


def verification_loss(
    net: nn.Module, embeddings: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Koch et al. (2015): binary cross-entropy of `net.compare` on every pair of the batch,
    target 1 for the same class, positives weighted up to balance the negatives."""
    positive, negative = pair_masks(labels)
    i, j = torch.nonzero(positive | negative, as_tuple=True)
    compare = cast(Callable[[torch.Tensor, torch.Tensor], torch.Tensor], net.compare)
    logits = compare(embeddings[i], embeddings[j])
    target = positive[i, j].to(logits.dtype)
    pos_weight = negative.sum() / positive.sum().clamp(min=1)
    return F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)


def pml_loss(
    loss: str, margin: float, miner: str | None
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A pytorch-metric-learning loss over the pairs or triplets of a batch, by Euclidean
    distance between the embeddings as they are:

    - `contrastive` (Hadsell, Chopra & LeCun 2006, in PML's form): [d(a, p)]+ for same-class
      pairs plus [margin - d(a, n)]+ for different-class ones, each averaged over its non-zero
      terms, so pairs already far enough apart do not dilute the rest;
    - `triplet` (Schroff et al. 2015): [d(a, p) - d(a, n) + margin]+ over the triplets `miner`
      picks: `batch_hard` (hardest positive and negative per anchor, Hermans et al. 2017),
      `semihard` (negatives further than the positive but within the margin) or None (all).
    """
    from pytorch_metric_learning import distances, losses, miners

    distance = distances.LpDistance(normalize_embeddings=False)
    if loss == "contrastive":
        criterion = losses.ContrastiveLoss(pos_margin=0.0, neg_margin=margin, distance=distance)
    else:
        criterion = losses.TripletMarginLoss(margin=margin, distance=distance)
    mine = None
    if miner == "batch_hard":
        mine = miners.BatchHardMiner(distance=distance)
    elif miner == "semihard":
        mine = miners.TripletMarginMiner(margin, type_of_triplets="semihard", distance=distance)

    def compute(embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return criterion(embeddings, labels, mine(embeddings, labels) if mine else None)

    return compute


LOSSES = ("contrastive", "triplet", "verification", "softmax")
MINERS = (None, "batch_hard", "semihard")
