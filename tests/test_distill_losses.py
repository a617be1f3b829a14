"""Distillation losses against their formulas, and layer taps for hint losses."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks.features import tap_features
from zoo.tasks.distill_losses import HintLoss, distillation_loss, soft_target_loss


def test_soft_target_loss_is_t_squared_kl_of_the_softened_distributions():
    student, teacher = torch.tensor([[1.0, 0.0, -1.0]]), torch.tensor([[2.0, 1.0, 0.0]])
    t = 4.0
    p = torch.softmax(teacher / t, -1)
    q = torch.softmax(student / t, -1)
    by_hand = t**2 * (p * (p / q).log()).sum()
    torch.testing.assert_close(soft_target_loss(student, teacher, t), by_hand)
    assert soft_target_loss(teacher, teacher, t).item() == pytest.approx(0.0, abs=1e-7)


def test_alpha_one_is_cross_entropy_and_alpha_zero_pure_distillation():
    torch.manual_seed(0)
    student, teacher = torch.randn(8, 10), torch.randn(8, 10)
    target = torch.randint(10, (8,))
    torch.testing.assert_close(
        distillation_loss(student, teacher, target, 3.0, alpha=1.0),
        F.cross_entropy(student, target),
    )
    torch.testing.assert_close(
        distillation_loss(student, teacher, target, 3.0, alpha=0.0),
        soft_target_loss(student, teacher, 3.0),
    )
    mixed = distillation_loss(student, teacher, target, 3.0, alpha=0.3)
    expected = 0.3 * F.cross_entropy(student, target) + 0.7 * soft_target_loss(
        student, teacher, 3.0
    )
    torch.testing.assert_close(mixed, expected)
    with pytest.raises(ValueError, match="alpha must lie in"):
        distillation_loss(student, teacher, target, 3.0, alpha=1.5)


def test_t_squared_keeps_the_soft_gradient_the_same_size_at_high_temperature():
    # Hinton et al.: for large T the gradient tends to (z - v) / (N T^2); times T^2 it stays put
    torch.manual_seed(0)
    teacher = torch.randn(16, 10)
    teacher -= teacher.mean(1, keepdim=True)
    norms = []
    for t in (10.0, 20.0, 50.0):
        student = torch.zeros(16, 10, requires_grad=True)
        soft_target_loss(student, teacher, t).backward()
        norms.append(student.grad.norm().item())
    assert max(norms) / min(norms) < 1.05  # without T^2 they would shrink 25-fold


def test_hint_loss_adapts_student_features_to_the_teachers_width():
    torch.manual_seed(0)
    hint = HintLoss(student_channels=4, teacher_channels=8, spatial=True)
    student, teacher = torch.randn(2, 4, 5, 5, requires_grad=True), torch.randn(2, 8, 5, 5)
    loss = hint(student, teacher)
    torch.testing.assert_close(loss, F.mse_loss(hint.adapter(student), teacher))
    loss.backward()
    assert hint.adapter.weight.grad.abs().sum() > 0 and student.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"do not match the teacher's \(2, 8, 4, 4\)"):
        hint(student, torch.randn(2, 8, 4, 4))


def test_tap_features_reads_named_layers_and_removes_its_hooks():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(5, 3)
    with tap_features(net, ["0", "1"]) as features:
        out = net(x)
    torch.testing.assert_close(features["1"], torch.relu(net[0](x)))
    assert out.shape == (5, 2) and not net[0]._forward_hooks
    with pytest.raises(KeyError, match=r"no layers \['fc'\]"), tap_features(net, ["fc"]):
        pass
