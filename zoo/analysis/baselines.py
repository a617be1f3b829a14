"""Closed-form baselines the learned patterns are measured against."""

from __future__ import annotations

import torch


class PCA:
    """Principal component analysis by SVD: the best linear k-dimensional reconstruction in
    squared error, which a linear autoencoder can only match (Baldi & Hornik 1989)."""

    def __init__(self, k: int) -> None:
        self.k = k

    def fit(self, x: torch.Tensor) -> PCA:
        flat = x.flatten(1).double()
        self.mean = flat.mean(0)
        _, _, vh = torch.linalg.svd(flat - self.mean, full_matrices=False)
        self.components = vh[: self.k]
        return self

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1).double() - self.mean
        return ((flat @ self.components.T) @ self.components + self.mean).view_as(x).to(x.dtype)


def squared_error_per_sample(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error summed over each sample's values, averaged over samples."""
    return (x - target).pow(2).flatten(1).sum(1).mean()
