"""Modulation blocks: shapes, gradient flow, clear errors, and the property each is known for."""

import pytest
import torch
from torch import nn

from zoo.blocks import (
    GLU,
    AttentionPooling,
    FiLMConvBlock,
    FiLMGenerator,
    GatedResidualUnit,
    Highway,
    MultiHeadAttention,
    Residual,
    ResidualConvBlock,
    ResidualMLPBlock,
    RNNEncoder,
    SqueezeExcite,
    TransformerEncoderBlock,
    film,
)


def gradients_flow(module: nn.Module, *inputs: torch.Tensor) -> bool:
    out = module(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    out.square().mean().backward()
    return all(
        p.grad is not None and p.grad.abs().sum() > 0
        for p in module.parameters()
        if p.requires_grad
    )


@pytest.mark.parametrize(
    ("build", "input_shapes", "shape"),
    [
        (lambda: GLU(8, 5), [(4, 8)], (4, 5)),
        (lambda: Highway(8), [(4, 8)], (4, 8)),
        (lambda: SqueezeExcite(8, reduction=2), [(16, 8, 5, 5)], (16, 8, 5, 5)),
        (lambda: GatedResidualUnit(8, 16, context=3), [(4, 8), (4, 3)], (4, 8)),
        (lambda: Residual(nn.Linear(8, 8), 8, placement="pre"), [(4, 8)], (4, 8)),
        (lambda: Residual(nn.Linear(8, 8), 8, placement="post"), [(4, 8)], (4, 8)),
        (lambda: ResidualMLPBlock(8, 16, norm="batch"), [(4, 8)], (4, 8)),
        (lambda: ResidualConvBlock(6), [(4, 6, 7, 7)], (4, 6, 7, 7)),
        (lambda: FiLMConvBlock(3, 8, cond_dim=5), [(4, 3, 6, 6), (4, 5)], (4, 8, 6, 6)),
        (lambda: MultiHeadAttention(8, 2), [(4, 5, 8)], (4, 5, 8)),
        (lambda: AttentionPooling(8, 2), [(4, 5, 8)], (4, 8)),
        (lambda: TransformerEncoderBlock(8, 2), [(4, 5, 8)], (4, 5, 8)),
    ],
)
def test_shapes_and_gradient_flow(build, input_shapes, shape):
    torch.manual_seed(0)  # modules are built here, not at collection, so the draw is fixed
    module = build()
    inputs = [torch.randn(s) for s in input_shapes]
    if isinstance(module, SqueezeExcite):  # it sits after a ReLU: its inputs are >= 0
        inputs = [x.abs() for x in inputs]
    out = module(*inputs)
    assert (out[0] if isinstance(out, tuple) else out).shape == shape
    assert gradients_flow(module, *inputs)


@pytest.mark.parametrize(
    ("module", "bad", "message"),
    [
        (GLU(8), torch.randn(4, 7), r"GLU expected input of shape \(\.\.\., 8\), got \(4, 7\)"),
        (Highway(8), torch.randn(4, 9), r"Highway expected input of shape \(\.\.\., 8\)"),
        (
            SqueezeExcite(8),
            torch.randn(4, 8),
            r"SqueezeExcite expected \(N, 8, H, W\), got \(4, 8\)",
        ),
        (ResidualConvBlock(6), torch.randn(4, 5, 7, 7), r"expected \(N, 6, H, W\)"),
        (
            MultiHeadAttention(8, 2),
            torch.randn(4, 8),
            r"expected query of shape \(N, L, 8\), got \(4, 8\)",
        ),
        (
            RNNEncoder(3, 4),
            torch.randn(4, 5, 2),
            r"RNNEncoder expected \(N, T, 3\), got \(4, 5, 2\)",
        ),
        (GatedResidualUnit(8), torch.randn(4, 6), r"GatedResidualUnit expected input of shape"),
        (ResidualMLPBlock(8), torch.randn(4, 6), r"ResidualMLPBlock expected \(N, 8\), got"),
        (AttentionPooling(8), torch.randn(4, 5, 6), r"expected key of shape \(N, L, 8\), got"),
        (
            TransformerEncoderBlock(8, 2),
            torch.randn(4, 8),
            r"TransformerEncoderBlock expected input",
        ),
    ],
)
def test_bad_shapes_are_named(module, bad, message):
    with pytest.raises(ValueError, match=message):
        module(bad)


def test_film_block_and_generator_name_bad_shapes():
    with pytest.raises(
        ValueError, match=r"FiLMConvBlock expected \(N, 3, H, W\), got \(2, 4, 5, 5\)"
    ):
        FiLMConvBlock(3, 8, cond_dim=5)(torch.randn(2, 4, 5, 5), torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"FiLMGenerator expected \(N, 5\), got \(2, 4\)"):
        FiLMConvBlock(3, 8, cond_dim=5)(torch.randn(2, 3, 5, 5), torch.randn(2, 4))


def test_highway_starts_close_to_the_identity():
    layer = Highway(16, gate_bias=-3.0)
    x = torch.randn(32, 16)
    assert (layer(x) - x).abs().mean() < 0.2 * x.abs().mean()


def test_squeeze_excite_only_rescales_channels():
    se = SqueezeExcite(4)
    x = torch.rand(2, 4, 3, 3) + 0.1
    ratio = se(x) / x
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio))
    assert ((ratio > 0) & (ratio < 1)).all()


def test_film_with_unit_gamma_and_zero_beta_is_the_identity():
    for shape in [(3, 5), (3, 5, 4, 4), (1, 7, 2, 9)]:
        x = torch.randn(shape)
        n, c = shape[:2]
        assert torch.equal(film(x, torch.ones(n, c), torch.zeros(n, c)), x)
    generator = FiLMGenerator(cond_dim=4, num_channels=6)
    nn.init.zeros_(generator.net[-1].weight), nn.init.zeros_(generator.net[-1].bias)
    gamma, beta = generator(torch.randn(2, 4))
    assert torch.equal(gamma, torch.ones(2, 6)) and torch.equal(beta, torch.zeros(2, 6))
    with pytest.raises(ValueError, match=r"FiLM needs gamma and beta of shape \(N, C\) = \(3, 5\)"):
        film(torch.randn(3, 5, 2, 2), torch.ones(3, 4), torch.zeros(3, 4))


def test_film_modulation_depends_on_the_condition():
    block = FiLMConvBlock(2, 4, cond_dim=3).eval()
    x = torch.randn(1, 2, 5, 5).expand(2, -1, -1, -1)
    out = block(x, torch.randn(2, 3))
    assert not torch.allclose(out[0], out[1])


@pytest.mark.parametrize("kdim", [None, 6])
def test_attention_matches_torch_multihead_attention(kdim):
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(16, 4, batch_first=True, kdim=kdim, vdim=kdim)
    ours = MultiHeadAttention(16, 4, kdim=kdim, vdim=kdim)
    ours.load_state_dict(reference.state_dict())
    q, kv = torch.randn(3, 5, 16), torch.randn(3, 7, kdim or 16)
    pad = torch.zeros(3, 7, dtype=torch.bool)
    pad[0, 4:] = pad[2, 6:] = True
    expected, expected_weights = reference(q, kv, kv, key_padding_mask=pad)
    out, weights = ours(q, kv, kv, key_padding_mask=pad, need_weights=True)
    assert torch.allclose(out, expected, atol=1e-6) and torch.allclose(
        weights, expected_weights, atol=1e-6
    )
    if kdim is None:
        causal = nn.Transformer.generate_square_subsequent_mask(5)
        assert torch.allclose(
            ours(q, causal=True)[0], reference(q, q, q, attn_mask=causal)[0], atol=1e-6
        )


def test_causal_attention_ignores_the_future_and_masks_ignore_padding():
    torch.manual_seed(0)
    block = TransformerEncoderBlock(8, 2, causal=True).eval()
    x = torch.randn(1, 6, 8)
    changed = x.clone()
    changed[:, 4:] = torch.randn(1, 2, 8)
    assert torch.allclose(block(x)[:, :4], block(changed)[:, :4], atol=1e-6)
    assert not torch.allclose(block(x)[:, 4:], block(changed)[:, 4:])

    pool = AttentionPooling(8, 2)
    pad = torch.tensor([[False, False, False, True, True, True]])
    garbage = x.clone()
    garbage[:, 3:] = 100.0
    assert torch.allclose(pool(x, pad), pool(garbage, pad), atol=1e-6)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\) = \(1, 6\)"):
        pool(x, pad[:, :5])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnn_encoder_summarises_the_last_real_step(cell):
    torch.manual_seed(0)
    encoder = RNNEncoder(3, 5, cell=cell, bidirectional=True)
    x = torch.randn(2, 6, 3)
    lengths = torch.tensor([6, 3])
    outputs, summary = encoder(x, lengths)
    assert outputs.shape == (2, 6, 10) and summary.shape == (2, 10)
    _, short_summary = encoder(x[1:, :3])
    assert torch.allclose(summary[1], short_summary[0], atol=1e-6)  # padding changed nothing
    assert torch.all(outputs[1, 3:] == 0)
    with pytest.raises(ValueError, match="unknown cell 'lstn'"):
        RNNEncoder(3, 5, cell="lstn")
