"""Normalisation layers chosen by name or class (`norm: batch` in a config)."""

from __future__ import annotations

from torch import nn

NORMS_1D: dict[str, type[nn.Module]] = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}
NORMS_2D: dict[str, type[nn.Module]] = {"batch": nn.BatchNorm2d, "group": nn.GroupNorm}
# over the channels of signals (N, C, L): batch norm per channel, or groups of channels (layer
# norm in NORMS_1D would normalise over L instead)
NORMS_SIGNAL: dict[str, type[nn.Module]] = {"batch": nn.BatchNorm1d, "group": nn.GroupNorm}

NormLike = str | type[nn.Module] | None


def get_norm(norm: NormLike, num_features: int, spatial: bool = False, dims: int = 2) -> nn.Module:
    """Build a norm layer over `num_features` channels; `None` gives the identity.

    `spatial=True` picks the variant for maps: images (N, C, H, W), or signals (N, C, L) with
    `dims=1`; group norm uses one group per 8 channels (at least one), after Wu & He 2018.
    """
    if norm is None:
        return nn.Identity()
    if isinstance(norm, str):
        table = (NORMS_2D if dims == 2 else NORMS_SIGNAL) if spatial else NORMS_1D
        if norm.lower() not in table:
            raise ValueError(f"unknown norm {norm!r}: expected None or one of {sorted(table)}")
        norm = table[norm.lower()]
    if norm is nn.GroupNorm:
        return nn.GroupNorm(max(1, num_features // 8), num_features)
    return norm(num_features)
