"""Building blocks: torch-only modules that the patterns compose."""

from zoo.blocks.activations import ACTIVATIONS, get_activation
from zoo.blocks.conv import ConvStack
from zoo.blocks.heads import HEADS, BinaryHead, Head, MultiClassHead, MultiLabelHead
from zoo.blocks.manual_linear import LinearFunction, ManualLinear
from zoo.blocks.mlp import MLP
from zoo.blocks.norm import get_norm

__all__ = [
    "ACTIVATIONS",
    "HEADS",
    "MLP",
    "BinaryHead",
    "ConvStack",
    "Head",
    "LinearFunction",
    "ManualLinear",
    "MultiClassHead",
    "MultiLabelHead",
    "get_activation",
    "get_norm",
]
