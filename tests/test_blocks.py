"""Blocks: shapes, gradient flow, losses against their formulas, clear errors at the door."""

import math

import pytest
import torch
from torch import nn

from zoo.blocks import (
    MLP,
    BinaryHead,
    ConvStack,
    MultiClassHead,
    MultiLabelHead,
    get_activation,
    get_norm,
)
from zoo.patterns import Classifier


def grads_reach_every_parameter(module: nn.Module, out: torch.Tensor) -> bool:
    out.square().sum().backward()
    return all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu", "elu", nn.SiLU])
@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_mlp_shapes_and_gradients(activation, norm):
    mlp = MLP(64, [32, 16], out_features=5, activation=activation, norm=norm, dropout=0.1)
    out = mlp(torch.randn(8, 1, 8, 8))  # image input is flattened
    assert out.shape == (8, 5)
    assert grads_reach_every_parameter(mlp, out)


def test_mlp_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match=r"MLP expected input of shape \(N, 64\).*got \(8, 65\)"):
        MLP(64, [32])(torch.randn(8, 65))


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'swishy'.*relu"):
        get_activation("swishy")
    with pytest.raises(ValueError, match=r"unknown norm 'weird'.*batch"):
        get_norm("weird", 8)


def test_conv_stack_shapes_pooling_and_errors():
    stack = ConvStack(1, [8, 16], norm="batch")
    out = stack(torch.randn(4, 1, 8, 8))
    assert out.shape == (4, 16, 2, 2)
    assert grads_reach_every_parameter(stack, out)
    assert ConvStack(3, [8], global_pool=True)(torch.randn(2, 3, 20, 20)).shape == (2, 8)
    with pytest.raises(
        ValueError, match=r"expected input of shape \(N, 1, H, W\), got \(4, 3, 8, 8\)"
    ):
        stack(torch.randn(4, 3, 8, 8))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ConvStack(1, [8], kernel_size=4)


def test_conv_stack_takes_signals_with_the_image_stacks_keys():
    signal, image = ConvStack(1, [8, 16], norm="batch", dims=1), ConvStack(1, [8, 16], norm="batch")
    out = signal(torch.randn(4, 1, 40))
    assert out.shape == (4, 16, 10)  # 40 -> 20 -> 10: one 2x pooling per stage
    assert grads_reach_every_parameter(signal, out)
    assert [type(m).__name__ for m in signal.layers][:4] == [
        "Conv1d",
        "BatchNorm1d",
        "ReLU",
        "MaxPool1d",
    ]
    # module for module the image stack's: the same keys, kernels one dimension fewer
    shapes = {k: v.shape for k, v in image.state_dict().items()}
    assert signal.state_dict().keys() == shapes.keys()
    assert signal.layers[0].weight.shape == shapes["layers.0.weight"][:-1]
    assert ConvStack(3, [8], global_pool=True, dims=1)(torch.randn(2, 3, 7)).shape == (2, 8)
    assert ConvStack(8, [8], norm="group", dims=1)(torch.randn(2, 8, 6)).shape == (2, 8, 3)
    with pytest.raises(
        ValueError, match=r"expected input of shape \(N, 1, L\), got \(4, 1, 8, 8\)"
    ):
        signal(torch.randn(4, 1, 8, 8))
    with pytest.raises(ValueError, match=r"ConvStack takes dims=1 .* or dims=2 .*, got dims=3"):
        ConvStack(1, [8], dims=3)
    with pytest.raises(ValueError, match=r"unknown norm 'layer'"):  # over L, not the channels
        ConvStack(1, [8], norm="layer", dims=1)


def test_heads_pair_logits_with_their_loss_and_probabilities():
    torch.manual_seed(0)
    x = torch.randn(6, 4)

    binary = BinaryHead(4)
    logits, y = binary(x), torch.tensor([0, 1, 1, 0, 1, 0])
    assert logits.shape == (6,)
    p = torch.sigmoid(logits)
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert torch.allclose(binary.loss(logits, y), expected, atol=1e-6)
    assert torch.equal(binary.predict(logits), (p > 0.5).long())

    multilabel = MultiLabelHead(4, 3)
    logits, y = multilabel(x), torch.randint(0, 2, (6, 3))
    p = torch.sigmoid(logits)
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert torch.allclose(multilabel.loss(logits, y), expected, atol=1e-6)
    assert torch.equal(multilabel.predict_proba(logits), p)

    multiclass = MultiClassHead(4, 5)
    logits, y = multiclass(x), torch.tensor([0, 1, 2, 3, 4, 0])
    p = multiclass.predict_proba(logits)
    assert torch.allclose(p.sum(1), torch.ones(6))
    expected = -p[torch.arange(6), y].log().mean()
    assert torch.allclose(multiclass.loss(logits, y), expected, atol=1e-6)

    with pytest.raises(ValueError, match=r"MultiClassHead expected features of shape \(N, 4\)"):
        multiclass(torch.randn(6, 5))


def test_binary_loss_is_stable_for_extreme_logits():
    head = BinaryHead(1)
    loss = head.loss(torch.tensor([100.0, -100.0]), torch.tensor([0, 1]))
    assert math.isfinite(loss.item()) and loss.item() == pytest.approx(100.0)


def test_build_head_takes_a_head_or_calls_a_partial_with_the_width_only_when_needed():
    from zoo.blocks import SigmoidHead, build_head

    head = BinaryHead(4)
    assert build_head(head, 99) is head
    assert build_head(lambda w: MultiClassHead(w, 3), 7).in_features == 7
    asked = []
    assert build_head(head, lambda: asked.append(1) or 5) is head and not asked  # no dry run
    assert build_head(BinaryHead, lambda: 5).in_features == 5
    # binary and multi-label heads are one sigmoid head of different widths
    assert isinstance(BinaryHead(2), SigmoidHead) and isinstance(MultiLabelHead(2, 3), SigmoidHead)


def test_classifier_infers_head_width_and_checks_input_shape():
    net = Classifier(
        backbone=nn.Sequential(ConvStack(1, [8, 16]), MLP(64, [32])),
        head=lambda width: MultiClassHead(width, 10),
        input_shape=(1, 8, 8),
    )
    assert net.head.in_features == 32
    probs = net.predict_proba(torch.randn(3, 1, 8, 8))
    assert probs.shape == (3, 10) and torch.allclose(probs.sum(1), torch.ones(3))
    with pytest.raises(
        ValueError, match=r"Classifier expected input of shape \(N, 1, 8, 8\), got \(3, 64\)"
    ):
        net(torch.randn(3, 64))
