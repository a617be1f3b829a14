"""The hand-written dense layer: Forward / Backward / Update checked against autograd."""

import pytest
import torch
from torch import nn

from zoo.blocks import MLP, LinearFunction, ManualLinear


def test_backward_passes_gradcheck():
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(LinearFunction.apply, (x, w, b))
    assert torch.autograd.gradcheck(LinearFunction.apply, (x, w, None))
    x3 = torch.randn(2, 5, 4, dtype=torch.float64, requires_grad=True)  # extra leading dims
    assert torch.autograd.gradcheck(LinearFunction.apply, (x3, w, b))


def test_matches_nn_linear_outputs_and_gradients():
    torch.manual_seed(0)
    manual, reference = ManualLinear(6, 4), nn.Linear(6, 4)
    reference.load_state_dict(manual.state_dict())
    x = torch.randn(10, 6)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, y2 = manual(x1), reference(x2)
    assert torch.allclose(y1, y2, atol=1e-6)
    target = torch.randn(10, 4)
    ((y1 - target) ** 2).mean().backward()
    ((y2 - target) ** 2).mean().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-6)
    assert torch.allclose(manual.weight.grad, reference.weight.grad, atol=1e-6)
    assert torch.allclose(manual.bias.grad, reference.bias.grad, atol=1e-6)


def test_update_is_a_gradient_descent_step():
    torch.manual_seed(0)
    manual, reference = ManualLinear(3, 2), nn.Linear(3, 2)
    reference.load_state_dict(manual.state_dict())
    x = torch.randn(8, 3)
    manual(x).sum().backward()
    reference(x).sum().backward()
    manual.update(lr=0.1)
    torch.optim.SGD(reference.parameters(), lr=0.1).step()
    assert torch.allclose(manual.weight, reference.weight) and torch.allclose(
        manual.bias, reference.bias
    )


def test_mlp_with_manual_layers_learns_like_the_torch_one():
    torch.manual_seed(0)
    x, y = torch.randn(256, 2), None
    y = (x[:, 0] * x[:, 1] > 0).float()  # XOR-like: needs the hidden layer
    net = MLP(2, [16], out_features=1, activation="tanh", linear="manual")
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(net(x).squeeze(1), y)
        loss.backward()
        opt.step()
    accuracy = ((net(x).squeeze(1) > 0).float() == y).float().mean()
    assert accuracy > 0.95


def test_wrong_width_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected input of shape \(\.\.\., 6\), got \(2, 5\)"):
        ManualLinear(6, 4)(torch.randn(2, 5))


def test_prints_its_sizes_as_nn_linear_does():
    assert "in_features=3, out_features=2" in repr(ManualLinear(3, 2))
