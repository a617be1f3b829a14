"""Configs: every experiment composes and trains a few steps; bad values fail before training."""

from pathlib import Path

import pytest
from conftest import CONF, EXPERIMENTS, run_train_py

from zoo.cli.checks import ConfigError
from zoo.cli.run import build, train


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_trains_a_few_steps(experiment, compose_in):
    cfg = compose_in(f"experiment={experiment}", "debug=fast_dev_run")
    metrics = train(cfg)
    losses = [v for k, v in metrics.items() if k.startswith("train/") and k.endswith("loss")]
    assert losses and all(v > 0 for v in losses)  # train/loss, or a GAN's d_loss and g_loss


def test_debug_configs_run_and_overfit_drives_the_loss_to_zero(compose_in):
    for debug in ("limit", "profiler"):
        assert "val/acc" in train(compose_in("experiment=mlp_digits", f"debug={debug}"))
    metrics = train(compose_in("experiment=mlp_digits", "debug=overfit", "optimizer.lr=0.01"))
    assert metrics["train/loss"] < 0.01  # three batches memorised


@pytest.mark.parametrize(
    "optimizer", ["gd", "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]
)
@pytest.mark.parametrize("scheduler", ["none", "cosine", "step"])
def test_every_optimizer_and_scheduler_builds_and_steps(optimizer, scheduler, compose_in):
    cfg = compose_in("experiment=mlp_digits", f"optimizer={optimizer}", f"scheduler={scheduler}")
    _, task, _ = build(cfg)
    configured = task.configure_optimizers()
    opt = configured["optimizer"] if isinstance(configured, dict) else configured
    assert opt.param_groups[0]["lr"] == cfg.optimizer.lr
    assert (cfg.data.batch_size is None) == (optimizer == "gd")  # gd is full-batch


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optimizer.lr=-1"], "optimizer.lr=-1: expected a positive number"),
        (["optimizer=momentum", "optimizer.momentum=1.5"], "optimizer.momentum=1.5: expected"),
        (["trainer.max_epochs=0"], "trainer.max_epochs=0: expected a positive integer"),
        (["data.batch_size=-4"], "data.batch_size=-4"),
        (
            ["ckpt_path=nowhere/last.ckpt"],
            "ckpt_path='nowhere/last.ckpt': expected an existing checkpoint",
        ),
        (
            ["+callbacks.typo={monitor: val/loss}"],
            "callbacks.typo=.*expected a config with _target_",
        ),
        (
            ["model=cnn", "data=digit_mosaics", "model/head=multilabel"],
            r"model.input_shape=\[1, 8, 8\]: expected \[1, 16, 16\], the shape of one DigitMosaicsDataModule sample",
        ),
        (["data=digits_parity"], "expected a binary head for DigitsDataModule"),
        (["model.head.num_classes=7"], "model.head outputs=7: expected 10"),
    ],
)
def test_bad_config_fails_before_training_naming_the_value(overrides, message, compose_in):
    cfg = compose_in("experiment=mlp_digits", *overrides)
    with pytest.raises(ConfigError, match=message):
        train(cfg)
    assert not Path(cfg.paths.output_dir, "checkpoints").exists()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["optimizer.lr=-1"], "config error: optimizer.lr=-1: expected a positive number"),
        (["experiment=nope"], "Could not find 'experiment/nope'"),
        (
            ["model.backbone.in_features=65", "experiment=mlp_digits"],
            "MLP expected input of shape (N, 65)",
        ),
    ],
)
def test_cli_bad_override_exits_nonzero_with_the_reason(args, reason, tmp_path):
    result = run_train_py(*args, f"paths.log_dir={tmp_path}", cwd=tmp_path)
    assert result.returncode != 0
    first_line = result.stderr.strip().splitlines()[0]
    assert reason in first_line, result.stderr


@pytest.mark.parametrize("data", sorted(p.stem for p in (CONF / "data").glob("*.yaml")))
def test_every_data_config_instantiates(data, compose_in):
    from hydra.utils import instantiate

    datamodule = instantiate(compose_in(f"data={data}").data)
    assert datamodule.input_shape and datamodule.problem


def test_dense_and_generative_runs_check_their_net_before_training(compose_in):
    from hydra.errors import InstantiationException
    from torch import nn

    from zoo.tasks import SegmentationTask

    with pytest.raises(
        ConfigError, match=r"model.num_classes=3: expected 4, the classes of Shapes"
    ):
        build(compose_in("experiment=unet_shapes", "model.num_classes=3"))
    for experiment, task in (("pixelcnn_digits", "LikelihoodTask"), ("gan_digits", "GANTask")):
        with pytest.raises(
            InstantiationException, match=f"{task} needs a net with .* got Classifier"
        ):
            build(compose_in(f"experiment={experiment}", "model=mlp"))
    with pytest.raises(
        TypeError, match=r"SegmentationTask needs .* got Conv2d with num_classes=None"
    ):
        SegmentationTask(nn.Conv2d(1, 4, 1))
