"""Linear probe: how much a frozen encoder's features say about the labels, measured by a
logistic regression trained on them (the evaluation of SimCLR, Chen et al. 2020)."""

from __future__ import annotations

from collections.abc import Callable

import torch


@torch.no_grad()
def features_of(encode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """`encode` applied in batches of 512: (N, ...) -> (N, F) on the CPU."""
    return torch.cat([encode(chunk).flatten(1).cpu() for chunk in x.split(512)])


def linear_probe(
    encode: Callable[[torch.Tensor], torch.Tensor],
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
) -> float:
    """Test accuracy of a logistic regression fitted on `encode`d training inputs (features
    standardised with the training split's statistics); `train`, `test` = (inputs, labels)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(features_of(encode, train[0]).numpy(), train[1].cpu().numpy())
    return float(probe.score(features_of(encode, test[0]).numpy(), test[1].cpu().numpy()))
