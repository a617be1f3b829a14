"""Multi-task pattern and task: the output dict, masked per-head losses, the uncertainty
weighting against its formula, PCGrad's projection, rotated-digit targets."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.blocks import BinaryHead, MultiClassHead, RegressionHead
from zoo.patterns import MultiTask
from zoo.tasks.multitask import MultiTaskTask, project_conflicts, uncertainty_weighted


def small_multitask(tasks=None) -> MultiTask:
    torch.manual_seed(0)
    heads = {
        "digit": lambda w: MultiClassHead(w, 10),
        "angle": RegressionHead,
        "parity": BinaryHead,
    }
    trunk = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU())
    return MultiTask(trunk, heads, input_shape=(1, 8, 8), tasks=tasks)


def test_multitask_returns_one_output_per_head_from_one_trunk():
    net = small_multitask()
    out = net(torch.randn(5, 1, 8, 8))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "digit": (5, 10),
        "angle": (5,),
        "parity": (5,),
    }
    assert net.parameter_counts() == {
        "multitask": 64 * 16 + 16 + (16 * 10 + 10) + 17 + 17,
        "separate": 3 * (64 * 16 + 16) + (16 * 10 + 10) + 17 + 17,
    }
    assert list(small_multitask(tasks=["angle"]).heads) == ["angle"]
    with pytest.raises(ValueError, match=r"tasks=\['colour'\]"):
        small_multitask(tasks=["colour"])
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 1, 8, 8\)"):
        net(torch.randn(5, 64))


def test_missing_labels_drop_out_of_their_own_head_only():
    task = MultiTaskTask(small_multitask(), targets=["digit", "angle", "parity"])
    x = torch.randn(4, 1, 8, 8)
    digit = torch.tensor([1.0, math.nan, 3.0, 4.0])
    angle = torch.tensor([10.0, -5.0, math.nan, 0.0])
    parity = torch.full((4,), math.nan)  # no parity label in this batch
    losses, counts = task.head_losses((x, digit, angle, parity), "train")
    out = task.net(x)
    torch.testing.assert_close(
        losses[0], F.cross_entropy(out["digit"][[0, 2, 3]], digit[[0, 2, 3]].long())
    )
    torch.testing.assert_close(losses[1], F.mse_loss(out["angle"][[0, 1, 3]], angle[[0, 1, 3]]))
    assert losses[2] == 0 and counts.tolist() == [3, 3, 0]
    losses.sum().backward()  # the empty head still backpropagates (a zero gradient)
    assert task.net.heads["parity"].linear.weight.grad.abs().sum() == 0


def test_uncertainty_weighting_matches_kendalls_formula_and_its_gradient():
    losses = torch.tensor([2.0, 300.0])
    log_vars = torch.tensor([0.5, 4.0], requires_grad=True)
    regression = torch.tensor([False, True])
    total = uncertainty_weighted(losses, log_vars, regression)
    expected = math.exp(-0.5) * 2.0 + 0.25 + 0.5 * math.exp(-4.0) * 300.0 + 2.0
    assert total.item() == pytest.approx(expected)
    total.backward()
    # d/ds: -scale * exp(-s) * L + 1/2, zero where exp(s) = 2 * scale * L
    grad = [-math.exp(-0.5) * 2.0 + 0.5, -0.5 * math.exp(-4.0) * 300.0 + 0.5]
    torch.testing.assert_close(log_vars.grad, torch.tensor(grad))


def test_pcgrad_projects_out_conflicts_and_leaves_agreement_alone():
    g = torch.Generator().manual_seed(0)
    conflicting = [torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])]
    # g1 - (g1.g2 / |g2|^2) g2 = [0.5, 0.5];  g2 - (g2.g1 / |g1|^2) g1 = [0, 1]
    torch.testing.assert_close(project_conflicts(conflicting, g), torch.tensor([0.5, 1.5]))
    agreeing = [torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0])]
    torch.testing.assert_close(project_conflicts(agreeing, g), torch.tensor([2.0, 1.0]))


def test_multitask_task_rejects_configs_that_cannot_work():
    with pytest.raises(ValueError, match="must name the model's heads"):
        MultiTaskTask(small_multitask(), targets=["digit"])
    with pytest.raises(ValueError, match=r"task\.weighting='gradnorm'"):
        MultiTaskTask(small_multitask(), targets=["digit", "angle", "parity"], weighting="gradnorm")
    with pytest.raises(ValueError, match=r"task\.weights"):
        MultiTaskTask(
            small_multitask(), targets=["digit", "angle", "parity"], weights={"colour": 1}
        )


def test_uncertainty_log_variances_get_their_own_learning_rate():
    from functools import partial

    task = MultiTaskTask(
        small_multitask(),
        targets=["digit", "angle", "parity"],
        weighting="uncertainty",
        log_var_lr=0.05,
        optimizer=partial(torch.optim.Adam, lr=0.001),
    )
    optimizer = task.configure_optimizers()
    assert [g["lr"] for g in optimizer.param_groups] == [0.001, 0.05]
    assert optimizer.param_groups[1]["params"] == [task.log_vars]
    fixed = MultiTaskTask(small_multitask(), targets=["digit", "angle", "parity"])
    assert not fixed.log_vars.requires_grad


@pytest.mark.parametrize(
    ("weighting", "learns", "automatic"),
    [("fixed", False, True), ("uncertainty", True, True), ("pcgrad", False, False)],
)
def test_the_weighting_string_picks_one_strategy_object(weighting, learns, automatic):
    from zoo.tasks.multitask import WEIGHTINGS

    task = MultiTaskTask(
        small_multitask(),
        targets=["digit", "angle", "parity"],
        weighting=weighting,
        weights={"angle": 0.5},
    )
    assert type(task.strategy) is WEIGHTINGS[weighting] and task.weighting == weighting
    assert task.log_vars.requires_grad == learns and task.automatic_optimization == automatic
    assert set(task.state_dict()) - {k for k in task.state_dict() if k.startswith("net.")} == {
        "weights",
        "regression",
        "log_vars",
    }
    # fixed weights: angle's 0.5; uncertainty at s = 0: exp(-s), halved for the regression
    torch.testing.assert_close(task.task_weights(), torch.tensor([1.0, 0.5, 1.0]))
    losses = torch.tensor([1.0, 2.0, 3.0])
    expected = (
        uncertainty_weighted(losses, task.log_vars, task.regression)
        if weighting == "uncertainty"
        else torch.tensor(1.0 + 0.5 * 2.0 + 3.0)
    )
    torch.testing.assert_close(task.combine(losses), expected)


def test_pcgrad_sets_the_trunk_gradient_to_the_projected_sum():
    task = MultiTaskTask(
        small_multitask(tasks=["digit", "angle"]),
        targets=["digit", "angle"],
        weighting="pcgrad",
        optimizer=lambda params: torch.optim.SGD(params, lr=0.0),
    )
    optimizer = task.configure_optimizers()
    task.optimizers = lambda: optimizer  # no trainer attached
    task.manual_backward = lambda loss: loss.backward()
    x = torch.randn(6, 1, 8, 8)
    batch = (x, torch.tensor([1.0, 2, 3, 4, 5, 6]), torch.randn(6))
    losses, _ = task.head_losses(batch, "train")
    shared = list(task.net.trunk.parameters())
    grads = [
        torch.cat([g.flatten() for g in torch.autograd.grad(loss, shared, retain_graph=True)])
        for loss in losses
    ]
    expected = project_conflicts(grads, torch.Generator().manual_seed(0))
    head = task.net.heads["digit"].linear.weight
    (head_grad,) = torch.autograd.grad(losses[0], head, retain_graph=True)
    task.strategy.manual_step(task, losses)
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in shared]), expected)
    torch.testing.assert_close(head.grad, head_grad)  # the heads keep their own gradients


def test_rotated_digits_carry_every_target_and_hide_only_training_labels():
    from zoo.data import RotatedDigitsDataModule
    from zoo.data.rotated_digits import rotate

    targets = ["digit", "angle", "parity", "large", "upright"]
    splits = RotatedDigitsDataModule(targets=targets, missing=0.3).load()
    x, digit, angle, parity, large, upright = splits["test"]
    assert x.shape == (899 * 4, 1, 8, 8) and not torch.isnan(digit).any()
    assert angle.abs().max() <= 45 and angle.std() > 20
    torch.testing.assert_close(parity, digit % 2)
    torch.testing.assert_close(large, (digit >= 5).float())
    from zoo.data.digits import load_digit_images

    images, labels = load_digit_images()  # the upright target is an unrotated bundled digit
    first = (images.flatten(1) - upright[0].flatten()).abs().sum(1).argmin()
    assert torch.equal(images[first], upright[0]) and labels[first] == digit[0]
    train_digit = splits["train"][1]
    assert torch.isnan(train_digit).float().mean().item() == pytest.approx(0.3, abs=0.03)
    image = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(rotate(image, torch.tensor([0.0])), image)
    quarter = rotate(torch.arange(64.0).view(1, 1, 8, 8), torch.tensor([90.0]))
    torch.testing.assert_close(
        quarter[0, 0], torch.arange(64.0).view(8, 8).rot90(1), atol=1e-3, rtol=0
    )
    with pytest.raises(ValueError, match=r"data.targets=\['colour'\]"):
        RotatedDigitsDataModule(targets=["colour"])


def test_the_shipped_trunk_loads_by_prefix_into_another_model():
    import zoo
    from zoo.blocks import MLP

    net = zoo.create_model("multitask_mlp.rotated_digits", pretrained=True).eval()
    trunk = zoo.load_pretrained(
        MLP(64, [256, 256]), "multitask_mlp.rotated_digits", prefix="trunk."
    ).eval()
    x = torch.randn(3, 1, 8, 8)
    torch.testing.assert_close(trunk(x), net.trunk(x))
    assert net.parameter_counts() == {"multitask": 85_259, "separate": 167_691}


def test_a_dense_head_predicts_an_image_and_masks_whole_samples():
    from zoo.blocks import DenseHead

    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU())
    heads = {"digit": lambda w: MultiClassHead(w, 10), "upright": lambda w: DenseHead(w, (1, 8, 8))}
    net = MultiTask(trunk, heads, input_shape=(1, 8, 8))
    task = MultiTaskTask(net, targets=["digit", "upright"])
    x, digit = torch.randn(3, 1, 8, 8), torch.tensor([1.0, 2.0, 3.0])
    upright = torch.rand(3, 1, 8, 8)
    upright[1] = math.nan  # the second sample has no upright image
    losses, counts = task.head_losses((x, digit, upright), "train")
    out = net(x)["upright"]
    assert out.shape == (3, 1, 8, 8) and counts.tolist() == [3, 2]
    torch.testing.assert_close(losses[1], F.mse_loss(out[[0, 2]], upright[[0, 2]]))
