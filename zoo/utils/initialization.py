"""Weight initialisation as a choice of every model (`model.init=he`, applied by
`zoo.utils.builder.build_model`): the schemes of the lecture's "application of backpropagation ->
parameter initialization".

- `normal_0.01`, `normal_1`: N(0, s^2) whatever the layer's width: signals shrink or grow
  geometrically with depth;
- `glorot`: N(0, 2 / (fan_in + fan_out)), keeps the variance of a linear or tanh layer
  (Glorot & Bengio 2010);
- `he`: N(0, 2 / fan_in), keeps it through ReLUs, which zero half of it (He et al. 2015);
- `orthogonal`: a random orthogonal matrix, which keeps every direction's norm (Saxe et al.
  2014);
- `default`: each layer as built (PyTorch's uniform Kaiming(a=sqrt 5), or the model's own).

Only the weights of linear and convolution layers are drawn; biases and the model's own
adjustments (a highway gate's bias) stay as built.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
SCHEMES: dict[str, Callable | None] = {
    "default": None,
    "normal_0.01": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "normal_1": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "glorot": nn.init.xavier_normal_,
    "he": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "orthogonal": nn.init.orthogonal_,
}


def initialize(model: nn.Module, scheme: str = "default") -> nn.Module:
    """Redraw the weights of every linear and convolution layer of `model` by `scheme`."""
    if scheme not in SCHEMES:
        raise ValueError(f"model.init={scheme!r}: expected one of {sorted(SCHEMES)}")
    draw = SCHEMES[scheme]
    if draw is not None:
        for module in model.modules():
            if isinstance(module, WEIGHTED):
                draw(module.weight)
    return model
