"""Reading a network's intermediate outputs by layer name, without changing its code."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def tap_features(module: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Within the block, every forward pass of `module` fills the yielded dict with the
    outputs of its submodules `names` (as `named_modules` spells them), e.g. for hint losses."""
    layers = dict(module.named_modules())
    missing = [n for n in names if n not in layers]
    if missing:
        raise KeyError(
            f"no layers {missing} in {type(module).__name__}; it has {sorted(layers)[1:]}"
        )
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            captured[name] = output

        return hook

    handles = [layers[n].register_forward_hook(keep(n)) for n in names]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()
