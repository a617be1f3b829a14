"""Building blocks: torch-only modules that the patterns compose."""

from zoo.blocks.activations import ACTIVATIONS, get_activation
from zoo.blocks.attention import (
    AdditiveAttention,
    AttentionPooling,
    KVCache,
    MultiHeadAttention,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from zoo.blocks.augment import RandomViews
from zoo.blocks.conv import ConvDecoder, ConvStack
from zoo.blocks.film import FiLMConvBlock, FiLMGenerator, film
from zoo.blocks.frozen import FrozenSequential
from zoo.blocks.fusion import FUSIONS, Fusion
from zoo.blocks.gating import GLU, GatedResidualUnit, Highway, SqueezeExcite
from zoo.blocks.heads import (
    HEADS,
    BinaryHead,
    DenseHead,
    Head,
    MultiClassHead,
    MultiLabelHead,
    RegressionHead,
    SigmoidHead,
    build_head,
    head_like,
)
from zoo.blocks.manual_linear import LinearFunction, ManualLinear
from zoo.blocks.masked_conv import MaskedConv2d
from zoo.blocks.merge import MERGES
from zoo.blocks.mlp import MLP
from zoo.blocks.norm import get_norm
from zoo.blocks.positions import PositionEmbedding, sinusoidal_positions
from zoo.blocks.recurrent import RNNEncoder
from zoo.blocks.residual import Residual, ResidualConvBlock, ResidualMLPBlock

__all__ = [
    "ACTIVATIONS",
    "FUSIONS",
    "GLU",
    "HEADS",
    "MERGES",
    "MLP",
    "AdditiveAttention",
    "AttentionPooling",
    "BinaryHead",
    "ConvDecoder",
    "ConvStack",
    "DenseHead",
    "FiLMConvBlock",
    "FiLMGenerator",
    "FrozenSequential",
    "Fusion",
    "GatedResidualUnit",
    "Head",
    "Highway",
    "KVCache",
    "LinearFunction",
    "ManualLinear",
    "MaskedConv2d",
    "MultiClassHead",
    "MultiHeadAttention",
    "MultiLabelHead",
    "PositionEmbedding",
    "RNNEncoder",
    "RandomViews",
    "RegressionHead",
    "Residual",
    "ResidualConvBlock",
    "ResidualMLPBlock",
    "SigmoidHead",
    "SqueezeExcite",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "build_head",
    "film",
    "get_activation",
    "get_norm",
    "head_like",
    "sinusoidal_positions",
]
