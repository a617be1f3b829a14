"""Property tests: hypothesis builds every block and pattern of `zoo.blocks` and
`zoo.patterns` with random valid sizes and feeds it random inputs. The output has the
documented shape and a backward pass reaches every trainable parameter. Fed an input of a wrong
shape, each raises a `ValueError` that names what it expected, never a raw error from inside
torch."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import zoo.blocks as B
import zoo.patterns as P

SETTINGS = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@dataclass
class Case:
    """A module, valid inputs and the output shape they must give, and a wrongly shaped
    variant of the inputs; `frozen` names parameters that the forward pass does not train."""

    module: nn.Module
    inputs: tuple[torch.Tensor, ...]
    shape: tuple[int, ...]
    bad: tuple[torch.Tensor, ...]
    frozen: tuple[str, ...] = field(default_factory=tuple)


SPECS: dict[str, Callable[[], st.SearchStrategy[Case]]] = {}


def spec(cls: type) -> Callable:
    def register(build: Callable) -> Callable:
        SPECS[cls.__name__] = st.composite(build)
        return build

    return register


def size(draw: Any, low: int = 1, high: int = 6) -> int:
    return draw(st.integers(low, high))


def r(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def head(k: int) -> Callable[[int], nn.Module]:
    return lambda width: B.MultiClassHead(width, k)


# ---- blocks ---------------------------------------------------------------------------------


@spec(B.GLU)
def _(draw):
    n, i, o = size(draw, 2), size(draw), size(draw)
    return Case(B.GLU(i, o), (r(n, i),), (n, o), (r(n, i + 1),))


@spec(B.MLP)
def _(draw):
    n, i, o = size(draw, 2), size(draw), size(draw)
    hidden = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    norm = draw(st.sampled_from([None, "batch", "layer"]))
    net = B.MLP(i, hidden, o, activation=draw(st.sampled_from(list(B.ACTIVATIONS))), norm=norm)
    return Case(net, (r(n, i),), (n, o), (r(n, i + 1),))


@spec(B.AdditiveAttention)
def _(draw):
    n, q, k, h, s = size(draw, 2), size(draw), size(draw), size(draw), size(draw)
    return Case(
        B.AdditiveAttention(q, k, h), (r(n, q), r(n, s, k)), (n, k), (r(n, q), r(n, s, k + 1))
    )


@spec(B.AttentionPooling)
def _(draw):
    n, heads, length = size(draw, 2), size(draw, 1, 3), size(draw)
    e = heads * size(draw, 1, 3)
    return Case(B.AttentionPooling(e, heads), (r(n, length, e),), (n, e), (r(n, length, e + 1),))


@spec(B.BinaryHead)
def _(draw):
    n, i = size(draw, 2), size(draw)
    return Case(B.BinaryHead(i), (r(n, i),), (n,), (r(n, i + 1),))


@spec(B.ConvDecoder)
def _(draw):
    n, i, out, start = size(draw, 2), size(draw), size(draw, 1, 3), size(draw, 1, 3)
    channels = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2))
    side = start * 2 ** len(channels)
    net = B.ConvDecoder(i, channels, out, start_size=start)
    return Case(net, (r(n, i),), (n, out, side, side), (r(n, i + 1),))


@spec(B.ConvStack)
def _(draw):
    n, c, h, w = size(draw, 2), size(draw, 1, 3), size(draw, 2, 9), size(draw, 2, 9)
    dims = draw(st.sampled_from([1, 2]))  # signals (N, C, L) or images (N, C, H, W)
    sizes = (h,) if dims == 1 else (h, w)
    channels = draw(st.lists(st.integers(1, 4), min_size=1, max_size=2))
    global_pool = draw(st.booleans())
    pool = draw(st.booleans()) and min(sizes) >= 2 ** len(channels)
    norm = draw(st.sampled_from([None, "batch"]))
    net = B.ConvStack(c, channels, pool=pool, global_pool=global_pool, norm=norm, dims=dims)
    k = len(channels) if pool else 0
    shape = (n, channels[-1]) if global_pool else (n, channels[-1], *(s >> k for s in sizes))
    return Case(net, (r(n, c, *sizes),), shape, (r(n, c + 1, *sizes),))


@spec(B.DenseHead)
def _(draw):
    n, i = size(draw, 2), size(draw)
    out = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    return Case(B.DenseHead(i, out), (r(n, i),), (n, *out), (r(n, i + 1),))


@spec(B.FiLMConvBlock)
def _(draw):
    n, i, c, d, h = size(draw, 2), size(draw), size(draw), size(draw), size(draw, 1, 5)
    net = B.FiLMConvBlock(i, c, d)
    return Case(net, (r(n, i, h, h), r(n, d)), (n, c, h, h), (r(n, i, h, h), r(n, d + 1)))


@spec(B.FiLMGenerator)
def _(draw):
    n, d, c = size(draw, 2), size(draw), size(draw)
    net = B.FiLMGenerator(d, c, hidden=draw(st.sampled_from([None, 4])))
    return Case(net, (r(n, d),), (n, c), (r(n, d + 1),))


@spec(B.Fusion)
def _(draw):
    n, heads = size(draw, 2), size(draw, 1, 2)
    widths = draw(st.lists(st.integers(1, 6), min_size=2, max_size=3))
    net = B.Fusion(draw(st.sampled_from(B.FUSIONS)), widths, dim=4 * heads, num_heads=heads)
    bad = [r(n, w) for w in widths]
    bad[-1] = r(n, widths[-1] + 1)
    return Case(net, tuple(r(n, w) for w in widths), (n, net.out_features), tuple(bad))


@spec(B.GatedResidualUnit)
def _(draw):
    n, f, context = size(draw, 2), size(draw), draw(st.sampled_from([None, 3]))
    net = B.GatedResidualUnit(f, size(draw), context=context)
    extra = (r(n, 3),) if context else ()
    return Case(net, (r(n, f), *extra), (n, f), (r(n, f + 1), *extra))


def _head_spec(cls: type, single: bool = False):
    @spec(cls)
    def _(draw):
        n, i, k = size(draw, 2), size(draw), size(draw)
        shape = (n,) if single and k == 1 else (n, k)
        return Case(cls(i, k), (r(n, i),), shape, (r(n, i + 1),))


for _cls in (B.Head, B.MultiClassHead, B.MultiLabelHead, B.SigmoidHead):
    _head_spec(_cls)
_head_spec(B.RegressionHead, single=True)


@spec(B.Highway)
def _(draw):
    n, f = size(draw, 2), size(draw)
    return Case(B.Highway(f), (r(n, f),), (n, f), (r(n, f + 1),))


@spec(B.ManualLinear)
def _(draw):
    n, i, o = size(draw, 2), size(draw), size(draw)
    return Case(B.ManualLinear(i, o), (r(n, i),), (n, o), (r(n, i + 1),))


@spec(B.MaskedConv2d)
def _(draw):
    n, i, o, h = size(draw, 2), size(draw, 1, 3), size(draw, 1, 3), size(draw, 2, 6)
    k = draw(st.sampled_from([3, 5]))
    net = B.MaskedConv2d(i, o, k, draw(st.sampled_from(["A", "B"])))
    return Case(net, (r(n, i, h, h),), (n, o, h, h), (r(n, i + 1, h, h),))


@spec(B.MultiHeadAttention)
def _(draw):
    n, heads, length = size(draw, 2), size(draw, 1, 3), size(draw)
    e = heads * size(draw, 1, 3)
    net = B.MultiHeadAttention(e, heads)
    return Case(net, (r(n, length, e),), (n, length, e), (r(n, length, e + 1),))


@spec(B.FrozenSequential)
def _(draw):
    n, k, m = size(draw, 2), size(draw), size(draw)
    # a frozen MLP under a trained layer: the MLP checks its input, and takes no gradient
    net = nn.Sequential(B.FrozenSequential(B.MLP(k, [m])), nn.Linear(m, m))
    return Case(net, (r(n, k),), (n, m), (r(n, k + 1),), frozen=("0.",))


@spec(B.PositionEmbedding)
def _(draw):
    n, length, e = size(draw, 2), size(draw), 2 * size(draw, 1, 3)
    kind = draw(st.sampled_from(["learned", "sinusoidal"]))
    net = B.PositionEmbedding(kind, length, e)
    x = r(n, length, e).requires_grad_()
    return Case(net, (x,), (n, length, e), (r(n, length, e + 1),))


@spec(B.RandomViews)
def _(draw):
    n, c, h, w = size(draw, 2), size(draw, 1, 3), size(draw, 2, 8), size(draw, 2, 8)
    x = r(n, c, h, w).requires_grad_()
    return Case(B.RandomViews(), (x,), (n, c, h, w), (r(n, c * h * w),))


@spec(B.TransformerDecoderBlock)
def _(draw):
    n, heads, length, source = size(draw, 2), size(draw, 1, 3), size(draw), size(draw)
    e = heads * size(draw, 1, 3)
    net = B.TransformerDecoderBlock(e, heads, mlp_ratio=2.0)
    memory = r(n, source, e)
    return Case(net, (r(n, length, e), memory), (n, length, e), (r(n, length, e + 1), memory))


@spec(B.RNNEncoder)
def _(draw):
    n, i, h, t = size(draw, 2), size(draw), size(draw), size(draw)
    bidirectional = draw(st.booleans())
    net = B.RNNEncoder(
        i, h, cell=draw(st.sampled_from(["lstm", "gru", "rnn"])), num_layers=size(draw, 1, 2),
        bidirectional=bidirectional,
    )  # fmt: skip
    return Case(net, (r(n, t, i),), (n, t, h * (1 + bidirectional)), (r(n, t, i + 1),))


@spec(B.Residual)
def _(draw):
    n, f = size(draw, 2), size(draw)
    placement = draw(st.sampled_from(["pre", "post", None]))
    net = B.Residual(nn.Linear(f, f), f, placement=placement)
    return Case(net, (r(n, f),), (n, f), (r(n, f + 1),))


@spec(B.ResidualConvBlock)
def _(draw):
    n, c, h = size(draw, 2), size(draw), size(draw, 1, 5)
    return Case(B.ResidualConvBlock(c), (r(n, c, h, h),), (n, c, h, h), (r(n, c + 1, h, h),))


@spec(B.ResidualMLPBlock)
def _(draw):
    n, f = size(draw, 2), size(draw)
    net = B.ResidualMLPBlock(f, size(draw), norm=draw(st.sampled_from([None, "batch", "layer"])))
    return Case(net, (r(n, f),), (n, f), (r(n, f + 1),))


@spec(B.SqueezeExcite)
def _(draw):
    n, c, h = size(draw, 2), size(draw), size(draw, 1, 5)
    net = B.SqueezeExcite(c, reduction=size(draw, 1, 4))
    return Case(net, (r(n, c, h, h).abs(),), (n, c, h, h), (r(n, c + 1, h, h),))


@spec(B.TransformerEncoderBlock)
def _(draw):
    n, heads, length = size(draw, 2), size(draw, 1, 3), size(draw)
    e = heads * size(draw, 1, 3)
    net = B.TransformerEncoderBlock(e, heads, mlp_ratio=2.0, causal=draw(st.booleans()))
    return Case(net, (r(n, length, e),), (n, length, e), (r(n, length, e + 1),))


# ---- patterns -------------------------------------------------------------------------------


def image_shape(draw: Any) -> tuple[int, ...]:
    return (size(draw, 1, 3), size(draw, 2, 6), size(draw, 2, 6))


def wrong(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*shape[:-1], shape[-1] + 1)


@spec(P.GAN)
def _(draw):
    n, latent, shape = size(draw, 2), size(draw), image_shape(draw)
    d = math.prod(shape)
    net = P.GAN(B.MLP(latent, [8], d), B.MLP(d, [8], 1), latent_dim=latent, input_shape=shape)
    return Case(net, (r(n, latent),), (n, *shape), (r(n, latent + 1),), ("discriminator",))


@spec(P.VAE)
def _(draw):
    n, latent, shape = size(draw, 2), size(draw), image_shape(draw)
    d = math.prod(shape)
    likelihood = draw(st.sampled_from(["bernoulli", "gaussian"]))
    net = P.VAE(B.MLP(d, [8], 2 * latent), B.MLP(latent, [8], d), shape, latent, likelihood)
    # the Gaussian's log-sigma is trained by the likelihood, not used by forward
    return Case(net, (r(n, *shape),), (n, *shape), (r(n, *wrong(shape)),), ("log_sigma",))


@spec(P.Autoencoder)
def _(draw):
    n, code, shape = size(draw, 2), size(draw), image_shape(draw)
    d = math.prod(shape)
    corruption = draw(st.sampled_from([None, "gaussian", "mask"]))
    net = P.Autoencoder(B.MLP(d, [8], code), B.MLP(code, [8], d), shape, corruption=corruption)
    return Case(net, (r(n, *shape),), (n, *shape), (r(n, *wrong(shape)),))


@spec(P.Classifier)
def _(draw):
    n, k, shape = size(draw, 2), size(draw, 2), image_shape(draw)
    net = P.Classifier(B.MLP(math.prod(shape), [8]), head(k), shape)
    return Case(net, (r(n, *shape),), (n, k), (r(n, *wrong(shape)),))


def _vqa_spec(cls: type):
    @spec(cls)
    def _(draw):
        n, k, q, shape = size(draw, 2), size(draw, 2), size(draw), image_shape(draw)
        net = cls([list(shape), [q]], head(k), channels=4, num_blocks=size(draw, 1, 2), hidden=8)
        return Case(net, (r(n, *shape), r(n, q)), (n, k), (r(n, *shape), r(n, q + 1)))


_vqa_spec(P.ConcatVQA)
_vqa_spec(P.FiLMVQA)


@spec(P.DeepMLP)
def _(draw):
    n, i, width = size(draw, 2), size(draw), size(draw)
    kind = draw(st.sampled_from(["plain", "residual", "highway"]))
    net = P.DeepMLP(i, width=width, depth=size(draw, 2, 4), kind=kind)
    return Case(net, (r(n, i),), (n, width), (r(n, i + 1),))


@spec(P.EncoderDecoder)
def _(draw):
    n, code, shape = size(draw, 2), size(draw), image_shape(draw)
    d = math.prod(shape)
    decoder = nn.Sequential(B.MLP(code, [8], d), nn.Unflatten(1, shape))
    net = P.EncoderDecoder(B.MLP(d, [8], code), decoder, shape)
    return Case(net, (r(n, *shape),), (n, *shape), (r(n, *wrong(shape)),))


@spec(P.IndependentPixels)
def _(draw):
    n, shape = size(draw, 2), image_shape(draw)
    net = P.IndependentPixels(shape)
    return Case(net, (r(n, *shape),), (n, *shape), (r(n, *wrong(shape)),))


@spec(P.MemoryReader)
def _(draw):
    n, k, items, features, q = size(draw, 2), size(draw, 2), size(draw), size(draw), size(draw)
    read = draw(st.sampled_from(["attention", "mean"]))
    net = P.MemoryReader([[items, features], [q]], head(k), dim=8, num_heads=2, read=read)
    good, bad = (r(n, items, features), r(n, q)), (r(n, items, features + 1), r(n, q))
    return Case(net, good, (n, k), bad, () if read == "attention" else ("query",))


@spec(P.MultiInput)
def _(draw):
    n, k, a, b = size(draw, 2), size(draw, 2), size(draw), size(draw)
    encoders = {"a": B.MLP(a, [4]), "b": B.MLP(b, [4])}
    fusion = draw(st.sampled_from(B.FUSIONS))
    net = P.MultiInput(encoders, {"a": (a,), "b": (b,)}, head(k), fusion=fusion, dim=8, hidden=(8,))
    return Case(net, (r(n, a), r(n, b)), (n, k), (r(n, a), r(n, b + 1)))


@spec(P.MultiTask)
def _(draw):
    n, k, shape = size(draw, 2), size(draw, 2), image_shape(draw)
    heads = {"digit": head(k), "odd": lambda width: B.BinaryHead(width)}
    net = P.MultiTask(B.MLP(math.prod(shape), [8]), heads, shape)
    return Case(net, (r(n, *shape),), (n, k), (r(n, *wrong(shape)),))


@spec(P.PixelCNN)
def _(draw):
    n, h = size(draw, 2), size(draw, 2, 6)
    net = P.PixelCNN((1, h, h), channels=4, layers=size(draw, 1, 2))
    x = (torch.rand(n, 1, h, h) > 0.5).float()
    return Case(net, (x,), (n, 1, h, h), (r(n, 2, h, h),))


@spec(P.RelationNetwork)
def _(draw):
    n, k, objects, d, q = size(draw, 2), size(draw, 2), size(draw, 2), size(draw), size(draw)
    net = P.RelationNetwork([[objects, d], [q]], head(k), g_hidden=(8,), f_hidden=(8,))
    return Case(net, (r(n, objects, d), r(n, q)), (n, k), (r(n, objects, d + 1), r(n, q)))


def seq2seq_case(net: nn.Module, n: int, source: int, steps: int, vocab: int) -> Case:
    """Padded source tokens (the first at full length), their lengths and target tokens."""
    tokens = torch.randint(3, vocab, (n, source))
    lengths = torch.randint(1, source + 1, (n,))
    lengths[0] = source
    target = torch.randint(3, vocab, (n, steps))
    bad = (tokens[..., None], lengths, target)  # one token id per position, not a vector
    return Case(net, (tokens, lengths, target), (n, steps, vocab), bad)


@spec(P.Seq2Seq)
def _(draw):
    n, source, steps, vocab = size(draw, 2), size(draw), size(draw), size(draw, 5, 9)
    attention = draw(st.sampled_from([None, "additive"]))
    net = P.Seq2Seq(vocab, (source,), embed_dim=4, hidden_size=6, attention=attention)
    return seq2seq_case(net, n, source, steps, vocab)


@spec(P.TransformerSeq2Seq)
def _(draw):
    n, source, vocab = size(draw, 2), size(draw), size(draw, 5, 9)
    steps, heads = size(draw, 1, source + 1), size(draw, 1, 2)
    positions = draw(st.sampled_from(["sinusoidal", "learned", "none"]))
    net = P.TransformerSeq2Seq(vocab, (source,), 4 * heads, heads, 1, 1, 2.0, positions=positions)
    return seq2seq_case(net, n, source, steps, vocab)


@spec(P.SimCLR)
def _(draw):
    n, shape, width = size(draw, 2), image_shape(draw), size(draw, 2, 8)
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), width), nn.ReLU())
    projection = size(draw)
    net = P.SimCLR(backbone, shape, projection_dim=projection, hidden_dim=size(draw))
    return Case(net, (r(n, *shape),), (n, projection), (r(n, *wrong(shape)),))


@spec(P.SequenceModel)
def _(draw):
    n, k, t, f = size(draw, 2), size(draw, 2), size(draw), size(draw)
    channels_first = draw(st.booleans())  # signals (N, C, L): L steps of C features
    read = draw(st.sampled_from(["summary", "steps"]))
    shape = (f, t) if channels_first else (t, f)
    net = P.SequenceModel(B.RNNEncoder(f, 6), head(k), shape, channels_first, read)
    wrong = (f + 1, t) if channels_first else (t, f + 1)
    return Case(net, (r(n, *shape),), (n, k), (r(n, *wrong),))


@spec(P.Siamese)
def _(draw):
    n, shape = size(draw, 2), image_shape(draw)
    merge = draw(st.sampled_from(list(B.MERGES)))
    scorer = None if merge in ("euclidean", "cosine") else (lambda width: B.BinaryHead(width))
    net = P.Siamese(B.MLP(math.prod(shape), [8], 4), shape, merge=merge, head=scorer)
    pair = (r(n, *shape), r(n, *shape))
    return Case(net, pair, (n,), (pair[0], r(n, *wrong(shape))))


@spec(P.TeacherStudent)
def _(draw):
    n, i, k = size(draw, 2), size(draw), size(draw)
    net = P.TeacherStudent(B.MLP(i, [8], k), B.MLP(i, [4], k))
    return Case(net, (r(n, i),), (n, k), (r(n, i + 1),), ("teacher",))


@spec(P.UNet)
def _(draw):
    n, c, k, levels = size(draw, 2), size(draw, 1, 3), size(draw, 2), size(draw, 2, 3)
    side = 2 ** (levels - 1) * size(draw, 1, 2)
    net = P.UNet((c, side, side), k, channels=[4] * levels, skips=draw(st.booleans()))
    return Case(net, (r(n, c, side, side),), (n, k, side, side), (r(n, c + 1, side, side),))


@spec(P.PatchEmbedding)
def _(draw):
    n, c, p, e = size(draw, 1, 3), size(draw, 1, 3), size(draw, 1, 3), size(draw, 2, 8)
    side = p * size(draw, 1, 3)
    net = P.PatchEmbedding(c, p, e)
    tokens = (side // p) ** 2
    return Case(net, (r(n, c, side, side),), (n, tokens, e), (r(n, c + 1, side, side),))


@spec(P.ViTEncoder)
def _(draw):
    n, c, p = size(draw, 1, 3), size(draw, 1, 2), size(draw, 1, 2)
    heads, side = size(draw, 1, 2), p * size(draw, 1, 3)
    net = P.ViTEncoder(
        (c, side, side),
        patch_size=p,
        embed_dim=4 * heads,
        depth=size(draw, 1, 2),
        num_heads=heads,
        positions=draw(st.sampled_from(["learned", "sinusoidal", "none"])),
        pool=draw(st.sampled_from(["cls", "attention"])),
    )
    return Case(net, (r(n, c, side, side),), (n, 4 * heads), (r(n, c + 1, side, side),))


# ---- the properties -------------------------------------------------------------------------


def module_classes() -> set[str]:
    return {
        name
        for package in (B, P)
        for name in package.__all__
        if inspect.isclass(obj := getattr(package, name)) and issubclass(obj, nn.Module)
    }


def test_every_block_and_pattern_has_a_property_spec():
    assert set(SPECS) == module_classes(), set(SPECS) ^ module_classes()


def first_output(out: Any) -> torch.Tensor:
    if isinstance(out, dict):
        return next(iter(out.values()))
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", sorted(SPECS))
@SETTINGS
@given(data=st.data())
def test_output_shape_and_gradients_reach_every_parameter(name, data):
    case = data.draw(SPECS[name]())
    case.module.train()
    out = case.module(*case.inputs)
    assert tuple(first_output(out).shape) == case.shape
    outputs = out.values() if isinstance(out, dict) else out if isinstance(out, tuple) else [out]
    sum(o.float().square().mean() for o in outputs if o is not None and o.requires_grad).backward()
    missing = [
        n
        for n, p in case.module.named_parameters()
        if p.requires_grad and p.grad is None and not n.startswith(case.frozen)
    ]
    assert not missing, f"no gradient reached {missing}"


@pytest.mark.parametrize("name", sorted(SPECS))
@SETTINGS
@given(data=st.data())
def test_a_wrong_shape_is_a_value_error_naming_the_expected_shape(name, data):
    case = data.draw(SPECS[name]())
    with pytest.raises(ValueError, match="expect"):
        case.module(*case.bad)
