"""Ways to compare two embeddings of a Siamese network (Bromley et al. 1993; Koch et al. 2015).

Feature merges keep one value per dimension and feed a learned head: `abs` (|a - b|, Koch's
weighted L1 when followed by a linear layer), `squared` ((a - b)^2) and `concat` ([a, b], order
matters). Distance merges return one number per pair: `euclidean` distance and `cosine`
similarity, used directly by metric-learning losses and nearest-neighbour search.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """||a - b||_2 per row, with a zero-safe gradient at a == b."""
    return ((a - b).pow(2).sum(-1) + 1e-12).sqrt()


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """cos(a, b) per row: 1 for the same direction, -1 for opposite ones."""
    return F.cosine_similarity(a, b, dim=-1)


FEATURE_MERGES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "abs": lambda a, b: (a - b).abs(),
    "squared": lambda a, b: (a - b).pow(2),
    "concat": lambda a, b: torch.cat([a, b], dim=-1),
}
DISTANCES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "euclidean": euclidean,
    "cosine": cosine,
}
MERGES = {**FEATURE_MERGES, **DISTANCES}
"""How a Siamese net compares two embeddings, by name: feature merges (`abs`, `squared`,
`concat`) for a head to read, and distances (`euclidean`, `cosine`) that are the score."""


def merge_width(merge: str, dim: int) -> int:
    """How many features `merge` produces from two `dim`-wide embeddings."""
    if merge not in MERGES:
        raise ValueError(f"merge={merge!r}: expected one of {sorted(MERGES)}")
    return {"concat": 2 * dim, "abs": dim, "squared": dim}.get(merge, 1)


def similarity(merge: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Higher means more alike: cosine similarity, or minus the Euclidean distance."""
    if merge not in DISTANCES:
        raise ValueError(f"merge={merge!r} is not a distance: expected one of {sorted(DISTANCES)}")
    score = DISTANCES[merge](a, b)
    return score if merge == "cosine" else -score
