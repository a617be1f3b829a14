"""N-way one-shot evaluation of a Siamese network on classes it never saw (Koch et al. 2015):
each episode shows one example of N new classes and a query from one of them; the model must
pick the query's class by comparing the query with each example.

Episodes come drawn at random from a split's classes (`episodes`, `one_shot_report`), or fixed
by the data (`OneShotRuns`: Omniglot's 20 official runs of Lake et al. 2015, scored by
`official_accuracy` for any net and by `runs_accuracy` for any score of a query against a
run's examples, such as the baselines of `zoo.analysis.baselines`)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class OneShotRuns:
    """Fixed N-way one-shot runs: for each of R runs, `support` (R, N, *sample) holds one
    example of each of its N classes (the run's "training" images), `query` (R, Q, *sample)
    the samples to classify and `answer` (R, Q) the support index of each query's class.
    Lake et al. (2015)'s official Omniglot runs are R = 20 runs of N = 20 classes and Q = 20
    queries, one per class, all from one alphabet per run."""

    support: torch.Tensor
    query: torch.Tensor
    answer: torch.Tensor

    def __post_init__(self) -> None:
        runs, ways = self.support.shape[:2]
        if (
            self.query.shape[0] != runs
            or self.query.shape[2:] != self.support.shape[2:]
            or self.answer.shape != self.query.shape[:2]
        ):
            raise ValueError(
                f"OneShotRuns: support {tuple(self.support.shape)}, query "
                f"{tuple(self.query.shape)} and answer {tuple(self.answer.shape)} do not match: "
                f"expected (R, N, *sample), (R, Q, *sample) and (R, Q)"
            )
        if self.answer.numel() and not 0 <= int(self.answer.min()) <= int(self.answer.max()) < ways:
            raise ValueError(f"OneShotRuns: answers must index the {ways} support samples")

    @property
    def ways(self) -> int:
        """N, the classes of each run."""
        return self.support.shape[1]

    def to(self, device: torch.device | str) -> OneShotRuns:
        """The same runs with every tensor on `device`."""
        return OneShotRuns(self.support.to(device), self.query.to(device), self.answer.to(device))


def runs_accuracy(scores: torch.Tensor, answer: torch.Tensor) -> float:
    """Lake et al.'s scoring: `scores` (R, Q, N) of each query against each support sample of
    its run (higher means more alike); the prediction is the most similar support sample
    (the first of a tie); the accuracy of each run, averaged over the runs."""
    if scores.dim() != 3 or scores.shape[:2] != answer.shape:
        raise ValueError(
            f"runs_accuracy: scores {tuple(scores.shape)} for answers {tuple(answer.shape)}: "
            f"expected (R, Q, N) and (R, Q)"
        )
    correct = scores.argmax(-1) == answer.to(scores.device)
    return correct.float().mean(1).mean().item()


@torch.no_grad()
def score_runs(net: nn.Module, runs: OneShotRuns, chunk: int = 512) -> torch.Tensor:
    """(R, Q, N): each query compared with each support sample of its run by `net` (a
    `zoo.patterns.Siamese`, or anything with `embed` and `compare`): embeddings by
    `net.embed`, scores by `pairwise_scores` (a distance, or the net's head)."""
    siamese = cast("Siamese", net)  # nn.Module does not declare `embed`
    runs_count, ways = runs.support.shape[:2]

    def embed(x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(0, 1)
        return torch.cat([siamese.embed(part) for part in flat.split(chunk)])

    support = embed(runs.support).view(runs_count, ways, -1)
    query = embed(runs.query).view(runs_count, runs.query.shape[1], -1)
    return torch.stack([pairwise_scores(net, q, s) for q, s in zip(query, support, strict=True)])


def official_accuracy(net: nn.Module, runs: OneShotRuns) -> float:
    """The one-shot accuracy of `net` on fixed `runs`, scored as Lake et al. (2015) score
    their 20 official Omniglot runs (`runs_accuracy` of `score_runs`)."""
    return runs_accuracy(score_runs(net, runs), runs.answer)
