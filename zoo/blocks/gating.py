"""Gates: a sigmoid that decides, per unit, how much of a signal passes.

GLU (Dauphin et al. 2017), highway layers (Srivastava et al. 2015), squeeze-and-excitation
(Hu et al. 2018) and the gated residual network of the Temporal Fusion Transformer
(Lim et al. 2021). LSTM/GRU gates live in `zoo.blocks.recurrent`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.activations import ActivationLike, get_activation
from zoo.utils.builder import register


def _check_last(x: torch.Tensor, dim: int, module: str) -> None:
    if x.dim() < 2 or x.shape[-1] != dim:
        raise ValueError(f"{module} expected input of shape (..., {dim}), got {tuple(x.shape)}")


@register()
class GLU(nn.Module):
    """Gated linear unit (Dauphin et al. 2017): (x W + b) * sigmoid(x V + c)."""

    def __init__(self, in_features: int, out_features: int | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features or in_features
        self.linear = nn.Linear(in_features, 2 * self.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., in_features) -> (..., out_features)."""
        _check_last(x, self.in_features, "GLU")
        return F.glu(self.linear(x), dim=-1)


@register()
class Highway(nn.Module):
    """Highway layer (Srivastava et al. 2015): y = T(x) * H(x) + (1 - T(x)) * x with transform
    gate T = sigmoid(x W_T + b_T).

    `gate_bias` starts negative so that a deep stack begins close to the identity (carry);
    Srivastava et al. use -1 to -3, and deep highway nets do not train without it.
    """

    def __init__(
        self, features: int, activation: ActivationLike = "relu", gate_bias: float = -2.0
    ) -> None:
        super().__init__()
        self.features = features
        self.transform = nn.Linear(features, features)
        self.gate = nn.Linear(features, features)
        self.activation = get_activation(activation)
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., features) -> (..., features)."""
        _check_last(x, self.features, "Highway")
        t = torch.sigmoid(self.gate(x))
        return t * self.activation(self.transform(x)) + (1 - t) * x


@register()
class SqueezeExcite(nn.Module):
    """Channel attention for (N, C, H, W) (Hu et al. 2018): global-average 'squeeze', a
    bottleneck MLP, and a sigmoid per channel that rescales the feature map."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.channels = channels
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, channels, H, W) -> the same maps, each channel rescaled by its gate."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"SqueezeExcite expected (N, {self.channels}, H, W), got {tuple(x.shape)}"
            )
        scale = self.fc(x.mean(dim=(2, 3)))
        return x * scale[:, :, None, None]


@register()
class GatedResidualUnit(nn.Module):
    """LayerNorm(x + GLU(W2 ELU(W1 x [+ W3 c]))): a residual unit whose gate can switch the
    whole non-linear branch off (the GRN of Lim et al. 2021), optionally conditioned on `c`."""

    def __init__(
        self,
        features: int,
        hidden: int | None = None,
        context: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.features = features
        hidden = hidden or features
        self.fc1 = nn.Linear(features, hidden)
        self.context = nn.Linear(context, hidden, bias=False) if context else None
        self.fc2 = nn.Linear(hidden, features)
        self.dropout = nn.Dropout(dropout)
        self.gate = GLU(features)
        self.norm = nn.LayerNorm(features)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """(..., features), with `context` (..., context) if built with one -> (..., features)."""
        _check_last(x, self.features, "GatedResidualUnit")
        h = self.fc1(x)
        if self.context is not None:
            if context is None:
                raise ValueError("GatedResidualUnit was built with a context size: pass context")
            h = h + self.context(context)
        h = self.dropout(self.fc2(F.elu(h)))
        return self.norm(x + self.gate(h))
