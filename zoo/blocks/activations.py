"""Activation functions chosen by name or class, so configs can say `activation: gelu`."""

from __future__ import annotations

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}
"""The activations a config may name (`activation: gelu`), by name: `get_activation` reads it."""

ActivationLike = str | type[nn.Module]


def get_activation(activation: ActivationLike) -> nn.Module:
    """Build an activation module from a name in `ACTIVATIONS` or an `nn.Module` class."""
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation.lower()]()
        except KeyError:
            raise ValueError(
                f"unknown activation {activation!r}: expected one of {sorted(ACTIVATIONS)}"
            ) from None
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    raise TypeError(f"activation must be a name or an nn.Module class, got {activation!r}")
