"""N-way one-shot evaluation of a Siamese network on classes it never saw (Koch et al. 2015):
each episode shows one example of N new classes and a query from one of them; the model must
pick the query's class by comparing the query with each example."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from zoo.patterns.siamese import Siamese


@torch.no_grad()
def pairwise_scores(
    net: nn.Module, a: torch.Tensor, b: torch.Tensor, chunk: int = 128
) -> torch.Tensor:
    """`net.compare` of every row of `a` with every row of `b`: (len(a), len(b)). Distances
    without a head take the one-matrix-product path; heads score pairs chunk by chunk."""
    if getattr(net, "head", None) is None and net.merge == "euclidean":
        return -torch.cdist(a, b)
    if getattr(net, "head", None) is None and net.merge == "cosine":
        return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    siamese = cast("Siamese", net)  # nn.Module does not declare `compare`
    rows = []
    for part in a.split(chunk):
        left = part[:, None].expand(-1, len(b), -1).reshape(-1, a.shape[1])
        right = b[None].expand(len(part), -1, -1).reshape(-1, b.shape[1])
        rows.append(siamese.compare(left, right).view(len(part), len(b)))
    return torch.cat(rows)


def episodes(
    labels: torch.Tensor, n_way: int, count: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`count` episodes over the samples with `labels`: query indices (E,), support indices
    (E, n_way) with one sample of each of n_way distinct classes, and the column (E,) that
    holds another sample of the query's class (placed at random, so ties cannot help)."""
    labels = labels.cpu()
    classes = labels.unique()
    if n_way > len(classes):
        raise ValueError(f"{n_way}-way episodes need {n_way} classes, got {len(classes)}")
    counts = torch.stack([(labels == c).sum() for c in classes])
    if counts.min() < 2:
        raise ValueError("one-shot episodes need at least two samples of every class")
    members = torch.full((len(classes), int(counts.max())), -1, dtype=torch.long)
    for row, c in enumerate(classes):
        members[row, : counts[row]] = torch.nonzero(labels == c).squeeze(1)
    chosen = torch.rand(count, len(classes), generator=generator).argsort(1)[:, :n_way]
    n = counts[chosen]  # (E, n_way) samples available per chosen class
    first = (torch.rand(count, n_way, generator=generator) * n).long()
    second = (first + 1 + (torch.rand(count, n_way, generator=generator) * (n - 1)).long()) % n
    supports = members[chosen, first]
    answers = torch.randint(n_way, (count,), generator=generator)
    rows = torch.arange(count)
    queries = members[chosen[rows, answers], second[rows, answers]]
    return queries, supports, answers


@torch.no_grad()
def one_shot_report(
    net: nn.Module,
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    ways: tuple[int, ...] = (5, 20),
    count: int = 1000,
    seed: int = 0,
    nearest_neighbour: bool = True,
) -> dict[str, float]:
    """`acc_{N}way` for each N in `ways`, `auroc` of same/different verification over the
    pairs of the widest episodes, and `precision_at_1` of the leave-one-out nearest neighbour
    (all by `net.compare`, on precomputed `embeddings`; `nearest_neighbour=False` skips the
    last). Episodes depend only on `seed`."""
    from torchmetrics.functional.classification import binary_auroc

    generator = torch.Generator().manual_seed(seed)
    siamese = cast("Siamese", net)  # nn.Module does not declare `compare`
    report = {}
    for n_way in ways:
        queries, supports, answers = episodes(labels, n_way, count, generator)
        query = embeddings[queries.to(embeddings.device)]
        support = embeddings[supports.to(embeddings.device)]
        scores = siamese.compare(
            query[:, None].expand_as(support).reshape(-1, embeddings.shape[1]),
            support.reshape(-1, embeddings.shape[1]),
        ).view(count, n_way)
        answers = answers.to(scores.device)
        report[f"acc_{n_way}way"] = (scores.argmax(1) == answers).float().mean().item()
        if n_way == max(ways):
            same = torch.zeros_like(scores, dtype=torch.long)
            same[torch.arange(count), answers] = 1
            report["auroc"] = binary_auroc(scores.flatten().float(), same.flatten()).item()
    if not nearest_neighbour:
        return report
    scores = pairwise_scores(net, embeddings, embeddings)
    scores.fill_diagonal_(float("-inf"))
    nearest = labels[scores.argmax(1)]
    report["precision_at_1"] = (nearest == labels).float().mean().item()
    return report
