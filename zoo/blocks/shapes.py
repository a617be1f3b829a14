"""Shape checks at a module's door: fail early with the shape that was expected."""

from __future__ import annotations

import torch


def check_features(x: torch.Tensor, expected: int, module: str) -> None:
    """Raise if the flattened feature size of a batch `x` (N, ...) is not `expected`."""
    got = x[0].numel() if x.dim() > 1 else None
    if got != expected:
        raise ValueError(
            f"{module} expected input of shape (N, {expected}) or (N, ...) with {expected} "
            f"features per sample, got {tuple(x.shape)}"
        )


def check_shape(x: torch.Tensor, expected: tuple[int, ...], module: str) -> None:
    """Raise if a batch `x` is not (N, *expected)."""
    if tuple(x.shape[1:]) != tuple(expected) or x.dim() != len(expected) + 1:
        raise ValueError(
            f"{module} expected input of shape (N, {', '.join(map(str, expected))}), "
            f"got {tuple(x.shape)}"
        )


@torch.no_grad()
def output_width(module: torch.nn.Module, input_shape: tuple[int, ...]) -> int:
    """Features per sample that `module` outputs for inputs (N, *input_shape), found by one
    dry run in eval mode (so a config never works out a flattened size by hand)."""
    was_training = module.training
    module.eval()
    width = module(torch.zeros(1, *input_shape))[0].numel()
    module.train(was_training)
    return width
