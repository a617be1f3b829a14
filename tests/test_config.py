"""Configs: every experiment composes and trains a few steps; bad values fail before training."""

from pathlib import Path

import pytest
from conftest import CONF, EXPERIMENTS, run_train_py
from omegaconf import DictConfig

from zoo.training.checks import ConfigError
from zoo.training.run import build, train


def trains_a_few_steps(experiment: str, compose_in) -> None:
    cfg = compose_in(f"experiment={experiment}", "debug=fast_dev_run")
    metrics = train(cfg)
    losses = [v for k, v in metrics.items() if k.startswith("train/") and k.endswith("loss")]
    assert losses and all(v > 0 for v in losses)  # train/loss, or a GAN's d_loss and g_loss


# Every experiment trains a few steps, in two halves: pytest-xdist hands each class to its own
# worker (`--dist loadscope`), so the quick tier's longest module does not run on one core.
class TestEveryExperimentTrainsAFewSteps:
    @pytest.mark.parametrize("experiment", EXPERIMENTS[::2])
    def test_first_half(self, experiment, compose_in):
        trains_a_few_steps(experiment, compose_in)


class TestEveryOtherExperimentTrainsAFewSteps:
    @pytest.mark.parametrize("experiment", EXPERIMENTS[1::2])
    def test_second_half(self, experiment, compose_in):
        trains_a_few_steps(experiment, compose_in)


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
            ["model.input_shape=[1,16,16]"],
            r"model=mlp does not fit .*: model.input_shape=\[1, 16, 16\]: expected \[1, 8, 8\], "
            "the shape of one DigitsDataModule sample",
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
        (["experiment=nope"], "Could not find 'experiment/nope'"),
        (["optimizer.lrr=0.1"], "Could not override 'optimizer.lrr'"),
        (["trainer.max_epochs=[1"], "no viable alternative at input '[1'"),
    ],
)
def test_hydras_own_errors_end_in_one_line_too(args, reason, tmp_path):
    result = run_train_py(*args, f"paths.log_dir={tmp_path / 'logs'}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], lines
    assert not (tmp_path / "logs").exists()


TORCHVISION = ("torchvision", "mnist", "fashion_mnist", "cifar10")


@pytest.mark.parametrize("data", sorted(p.stem for p in (CONF / "data").glob("*.yaml")))
def test_every_data_config_serves_samples_of_the_shape_its_spec_says(data, compose_in, tmp_path):
    from zoo.training.run import build_node

    overrides = [f"data={data}"]
    if data == "arrays":  # the user's own file
        np = pytest.importorskip("numpy")
        np.savez(tmp_path / "my.npz", x_train=np.zeros((20, 3)), y_train=np.arange(20) % 2)
        overrides.append(f"data.path={tmp_path / 'my.npz'}")
    if data == "shards":  # shards written from the digits
        from zoo.data import DigitsDataModule, shards_from_datamodule

        shards_from_datamodule(DigitsDataModule(), tmp_path / "shards")
        overrides += [f"data.path={tmp_path / 'shards'}", "data.num_workers=0"]
    datamodule = build_node(compose_in(*overrides), "data")
    if data in TORCHVISION:  # no files offline: tests/test_shapes.py serves stand-ins
        return
    shapes = datamodule.spec()["input_shape"]
    shapes = shapes if isinstance(shapes[0], list) else [shapes]
    if data == "shards":  # streamed: one batch, as served
        inputs = next(iter(datamodule.train_dataloader()))[:1]
    else:
        inputs = datamodule.load()["train"][: len(shapes)]  # what the spec describes, as served
    assert [list(x.shape[1:]) for x in inputs] == shapes


def test_torchvision_datasets_share_one_config(compose_in):
    for name in ("mnist", "fashion_mnist", "cifar10"):
        named = compose_in("data=torchvision", f"data.name={name}").data
        assert compose_in(f"data={name}").data == named and named.name == name


def _leaves(node: dict, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        elif key != "defaults":
            yield f"{prefix}{key}", value


def test_experiments_state_only_what_differs_from_the_defaults():
    """No experiment overrides a config group with the choice it already has: train.yaml's, or
    that of the experiment it extends."""
    from omegaconf import OmegaConf

    train_choices = {}
    for entry in OmegaConf.load(CONF / "train.yaml").defaults:
        if isinstance(entry, DictConfig):
            train_choices |= dict(entry)
    repeated = []

    def choices(name: str) -> dict:
        """The group choices after experiment `name`'s defaults list, noting repeated ones."""
        chosen = dict(train_choices)
        for entry in OmegaConf.load(CONF / "experiment" / f"{name}.yaml").get("defaults", []):
            if isinstance(entry, str) and entry != "_self_":  # an experiment it extends
                chosen |= choices(entry)
            for key, choice in dict(entry).items() if isinstance(entry, DictConfig) else []:
                group = key.removeprefix("override /")
                if key.startswith("override /"):
                    if chosen.get(group) == choice:
                        repeated.append(f"{name}: {key}: {choice}")
                    chosen[group] = choice
        return chosen

    for name in EXPERIMENTS:
        choices(name)
    assert not repeated


@pytest.mark.slow
def test_experiment_values_differ_from_what_their_groups_set(tmp_path):
    """No experiment sets a key to the value its config groups already give it."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from zoo.training.run import compose

    groups = ("data", "model", "model/head", "task", "optimizer", "scheduler", "callbacks")
    repeated = []
    for name in EXPERIMENTS:
        body = OmegaConf.to_container(OmegaConf.load(CONF / "experiment" / f"{name}.yaml"))
        if any(isinstance(d, str) and d != "_self_" for d in body.get("defaults", [])):
            continue  # a diff on another experiment: its values differ from that one's
        compose([f"experiment={name}"], tmp_path)
        choices = HydraConfig.get().runtime.choices
        chosen = [f"{g}={choices.get(g)}" for g in groups if choices.get(g)]
        base = compose(["~experiment", *chosen], tmp_path)
        for key, value in _leaves(body):
            if key.split(".")[0] != "hydra":
                same = OmegaConf.select(base, key, default="<unset>")
                same = OmegaConf.to_container(same) if OmegaConf.is_config(same) else same
                if same == value:
                    repeated.append(f"{name}: {key}={value}")
    assert not repeated


def test_dense_and_generative_runs_check_their_net_before_training(compose_in):
    from torch import nn

    from zoo.tasks import SegmentationTask

    with pytest.raises(
        ConfigError, match=r"model.num_classes=3: expected 4, the classes of Shapes"
    ):
        build(compose_in("experiment=unet_shapes", "model.num_classes=3"))
    for experiment, task in (("pixelcnn_digits", "LikelihoodTask"), ("gan_digits", "GANTask")):
        with pytest.raises(
            ConfigError,
            match=f"model=mlp does not fit .*: {task} needs a net with .* got Classifier",
        ):
            build(compose_in(f"experiment={experiment}", "model=mlp"))
    with pytest.raises(
        TypeError, match=r"SegmentationTask needs .* got Conv2d with num_classes=None"
    ):
        SegmentationTask(nn.Conv2d(1, 4, 1))
