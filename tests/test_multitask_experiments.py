"""The multi-task experiment shows its claim on a reduced budget: with losses ~100x apart an
equal-weight sum sacrifices the class head, learned uncertainty weights do not.

Full-budget numbers (README table, three seeds) come from the experiment's documented commands.
"""

import pytest
import torch
from conftest import compose_train

import zoo
from zoo.training.run import train

# The experiment's full 40 epochs (~8 s a run). At 20, measured on seeds 0-2, the learned
# weights tilt only ~20x and the class head loses 0.068-0.075 (the test allows 0.03).
BUDGET = ["logger=none"]


def run(tmp_path, name, *overrides, experiment="multitask_digits"):
    return train(compose_train([f"experiment={experiment}", *BUDGET, *overrides], tmp_path / name))


@pytest.mark.slow
def test_uncertainty_weighting_keeps_both_heads_where_equal_weights_lose_the_class(
    tmp_path, seed, figures
):
    """Proves: with losses ~100x apart, an equal-weight sum sacrifices the class head and
    learned uncertainty weights keep it, without giving up the angle.
    Margins, measured on seeds 0, 1, 2 (worst - 2 std, or best + 2 std for losses):
    uncertainty - equal digit accuracy > 0.05 (was 0.03): 0.073, 0.077, 0.069, std 0.004 ->
    0.062; equal loses > 0.04 of the single-task accuracy: 0.082, 0.093, 0.085 -> 0.072;
    uncertainty loses < 0.03: 0.010, 0.016, 0.015 -> 0.023; angle MAE < 1.3 x single task:
    1.11, 1.07, 1.09 -> 1.14; class/angle weight ratio > 30: 163, 124, 165 -> 77.
    Negative control (in the test): equal fixed weights (ratio 1) lose the class."""
    s = f"seed={seed}"
    digit_only = run(tmp_path, "digit", "data.targets=[digit]", "task.weighting=fixed", s)
    angle_only = run(
        tmp_path,
        "angle",
        "data.targets=[angle]",
        "task.weighting=fixed",
        "optimized_metric=val/angle/mae",
        s,
    )
    equal = run(tmp_path, "equal", "task.weighting=fixed", s)
    uncertainty = run(tmp_path, "uncertainty", s)
    single_acc, single_mae = digit_only["test/digit/acc"], angle_only["test/angle/mae"]
    summary = {
        "single": (single_acc, single_mae),
        "equal": (equal["test/digit/acc"], equal["test/angle/mae"]),
        "uncertainty": (uncertainty["test/digit/acc"], uncertainty["test/angle/mae"]),
    }
    figures(
        single_acc=single_acc,
        single_mae=single_mae,
        equal_acc=equal["test/digit/acc"],
        equal_mae=equal["test/angle/mae"],
        uncertainty_acc=uncertainty["test/digit/acc"],
        uncertainty_mae=uncertainty["test/angle/mae"],
        equal_loss=single_acc - equal["test/digit/acc"],
        uncertainty_loss=single_acc - uncertainty["test/digit/acc"],
        gap=uncertainty["test/digit/acc"] - equal["test/digit/acc"],
        mae_ratio=uncertainty["test/angle/mae"] / single_mae,
        weight_ratio=uncertainty["train/digit/weight"] / uncertainty["train/angle/weight"],
    )
    assert equal["test/digit/acc"] < single_acc - 0.04, summary
    assert uncertainty["test/digit/acc"] > single_acc - 0.03, summary
    assert uncertainty["test/digit/acc"] > equal["test/digit/acc"] + 0.05, summary
    assert uncertainty["test/angle/mae"] < 1.3 * single_mae, summary
    # the learned weights tilt towards the class: its loss is ~100x smaller
    assert uncertainty["train/digit/weight"] > 30 * uncertainty["train/angle/weight"], summary
    assert (tmp_path / "uncertainty" / "task_weights.png").stat().st_size > 10_000


@pytest.mark.slow
def test_all_head_kinds_train_together_with_missing_labels_and_pcgrad(tmp_path, seed, figures):
    """Proves: five heads of four kinds (classes, regression, binary, image) train together
    with 30% of the labels missing and PCGrad, each far above what it starts from.
    Margins, measured on seeds 0, 1, 2 (worst - 2 std, or best + 2 std for errors): digit >
    0.8: 0.899, 0.893, 0.899 -> 0.885; parity > 0.85: 0.887, 0.889, 0.880 -> 0.870; large >
    0.8 (was 0.85): 0.878, 0.895, 0.922 -> 0.833; angle MAE < 8: 2.32-2.37 -> 2.42; upright
    MSE < 0.5 x predicting the mean image: 0.359, 0.353, 0.348 -> 0.369.
    Negative control (one-off, train=false): the untrained network scores digit 0.099,
    parity 0.528, large 0.501, angle MAE 22.5, upright MSE 3.24 x the mean image's."""
    from zoo.data import RotatedDigitsDataModule

    metrics = run(
        tmp_path,
        "all",
        "data.missing=0.3",
        "task.weighting=pcgrad",
        f"seed={seed}",
        experiment="multitask_all_digits",
    )
    upright = RotatedDigitsDataModule(targets=["upright"]).load()["test"][1]
    predicting_the_mean_image = upright.var(0).mean().item()
    figures(
        digit_acc=metrics["test/digit/acc"],
        angle_mae=metrics["test/angle/mae"],
        parity_acc=metrics["test/parity/acc"],
        large_acc=metrics["test/large/acc"],
        upright_mse_ratio=metrics["test/upright/mse"] / predicting_the_mean_image,
    )
    assert metrics["test/digit/acc"] > 0.8 and metrics["test/angle/mae"] < 8, metrics
    assert metrics["test/parity/acc"] > 0.85 and metrics["test/large/acc"] > 0.8, metrics
    assert metrics["test/upright/mse"] < 0.5 * predicting_the_mean_image, metrics
    net = zoo.load_checkpoint(tmp_path / "all" / "checkpoints" / "last.ckpt")
    outputs = net(torch.zeros(2, 1, 8, 8))
    assert set(outputs) == {"digit", "angle", "parity", "large", "upright"}
    assert outputs["upright"].shape == (2, 1, 8, 8)
