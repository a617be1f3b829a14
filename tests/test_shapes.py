"""Shapes come from the data: every image model preset trains on every image dataset whose
problem it fits, with no shape override, through the real composed configs; a pair that cannot
work fails before training with one line naming the presets that would."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest
import torch
from conftest import compose_train, run_train_py
from omegaconf import open_dict

from zoo.training.checks import ConfigError
from zoo.training.run import build, train

TORCHVISION = ("mnist", "fashion_mnist", "cifar10")
CLASSIFIERS = ("cnn", "mlp", "deep_mlp", "vit", "logistic")
AUTOENCODERS = (("autoencoder", "reconstruction"), ("conv_autoencoder", "reconstruction"))
AUTOENCODERS += (("vae", "vae"),)
IMAGE_DATA = ("digits", *TORCHVISION)
# (model preset, data, task): every image preset with every image dataset whose problem it fits
MATRIX = [
    *[(model, data, "supervised") for model in CLASSIFIERS for data in IMAGE_DATA],
    ("siamese_cnn", "glyphs", "metric_learning"),
    ("multitask_mlp", "rotated_digits", "multitask"),
    *[(model, data, task) for model, task in AUTOENCODERS for data in IMAGE_DATA],
    ("unet", "shapes", "segmentation"),  # the one image dataset with per-pixel labels
]
# every preset that takes one signal (C, L) with the one signal dataset, MNIST-1D (1, 40)
SIGNAL_CLASSIFIERS = ("cnn", "mlp", "deep_mlp", "logistic", "rnn_classifier", "vit")
# image presets trained elsewhere, on the one dataset their task serves
ELSEWHERE = {
    "gan": "GANTask's judge is the digits classifier: tests/test_generative.py",
    "pixelcnn": "Bernoulli pixels need binarised digits (data.scale=binary): test_generative",
    "independent_pixels": "the PixelCNN's baseline, on binarised digits: test_generative",
    "simclr": "unlabelled views with its own task (ContrastiveTask): tests/test_simclr.py",
    "siamese_vit": "one-shot glyphs, as siamese_cnn: experiment=siamese_vit_glyphs in test_config",
}
TRAIN, TEST = 24, 12  # stand-in images per split (val_size=8 of the training ones)


def _write_idx(path: Path, data: torch.Tensor, magic: int) -> None:
    """An MNIST-style idx file: big-endian magic, dimensions, then uint8 values."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in data.shape)
    path.write_bytes(header + data.to(torch.uint8).numpy().tobytes())


def write_torchvision_standins(root: Path) -> None:
    """Tiny random MNIST, Fashion-MNIST and CIFAR-10 in torchvision's own on-disk formats (idx
    files; pickled batches of 3072-byte rows), so the real loaders read them."""
    generator = torch.Generator().manual_seed(0)
    for folder in ("MNIST", "FashionMNIST"):
        raw = root / folder / "raw"
        raw.mkdir(parents=True)
        for prefix, n in (("train", TRAIN), ("t10k", TEST)):
            images = torch.randint(0, 256, (n, 28, 28), generator=generator)
            _write_idx(raw / f"{prefix}-images-idx3-ubyte", images, 2051)
            _write_idx(raw / f"{prefix}-labels-idx1-ubyte", torch.arange(n) % 10, 2049)
    batches = root / "cifar-10-batches-py"
    batches.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        n = TEST if name == "test_batch" else math.ceil(TRAIN / 5)
        rows = torch.randint(0, 256, (n, 3 * 32 * 32), generator=generator, dtype=torch.uint8)
        batch = {"data": rows.numpy(), "labels": [i % 10 for i in range(n)]}
        (batches / name).write_bytes(pickle.dumps(batch))
    (batches / "batches.meta").write_bytes(pickle.dumps({"label_names": list("abcdefghij")}))


@pytest.fixture(scope="module")
def standins(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("torchvision")
    write_torchvision_standins(root)
    return root


@pytest.fixture
def offline_cifar(monkeypatch):
    """Our CIFAR-10 stand-in cannot match the real files' md5 sums: skip only that check."""
    import torchvision.datasets.cifar

    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)


def compose_pair(model: str, data: str, task: str, tmp_path: Path, data_dir: Path, *extra: str):
    """`python train.py model=M data=D task=T` under fast_dev_run, nothing written but logs."""
    overrides = [f"model={model}", f"data={data}", f"task={task}", "callbacks=none"]
    if data in TORCHVISION:
        overrides.append("data.val_size=8")
    if data == "glyphs":  # fewer classes to draw and fewer one-shot episodes to score
        overrides += ["data.classes={train: 32, val: 20, test: 20}", "task.episodes=20"]
    cfg = compose_train([*overrides, "debug=fast_dev_run", *extra], tmp_path)
    with open_dict(cfg):
        cfg.paths.data_dir = str(data_dir)
    return cfg


@pytest.mark.parametrize(("model", "data", "task"), MATRIX, ids=["-".join(p) for p in MATRIX])
def test_image_presets_train_on_every_image_dataset_they_fit(
    model, data, task, tmp_path, standins, offline_cifar
):
    cfg = compose_pair(model, data, task, tmp_path, standins)
    metrics = train(cfg)
    losses = [v for k, v in metrics.items() if k.startswith("train/") and k.endswith("loss")]
    assert losses and all(math.isfinite(v) for v in losses), metrics
    spec = cfg.data_spec  # what the run read from the data, and the model was built for
    assert cfg.model.input_shape == spec.input_shape


@pytest.mark.parametrize("model", SIGNAL_CLASSIFIERS)
def test_signal_presets_train_on_mnist1d(model, tmp_path):
    pytest.importorskip("mnist1d")
    cfg = compose_pair(model, "mnist1d", "supervised", tmp_path, tmp_path)
    metrics = train(cfg)
    assert math.isfinite(metrics["train/loss"]) and "test/acc" in metrics, metrics
    assert cfg.model.input_shape == cfg.data_spec.input_shape == [1, 40]


def test_every_preset_that_takes_signals_is_in_the_signal_matrix():
    from zoo.data import MNIST1DDataModule
    from zoo.training.fitting import fitting_presets

    pytest.importorskip("mnist1d")  # the fit is checked on the training split's last batch
    assert fitting_presets(MNIST1DDataModule()) == sorted(SIGNAL_CLASSIFIERS)


def test_every_image_preset_is_in_the_matrix_or_says_where_it_trains():
    import zoo

    def takes_one_image(arch: str) -> bool:
        shape = zoo.create_model(arch).pretrained_cfg["input_shape"]
        return bool(shape) and not isinstance(shape[0], list) and len(shape) == 3

    images = {arch for arch in zoo.list_models() if takes_one_image(arch)}
    assert images == {model for model, _, _ in MATRIX} | set(ELSEWHERE)


@pytest.mark.slow  # a subprocess: imports everything afresh
def test_mnist_trains_from_the_command_line_without_overrides(standins, tmp_path):
    result = run_train_py(
        "data=mnist",
        f"paths.data_dir={standins}",
        "data.val_size=8",
        "debug=fast_dev_run",
        f"paths.log_dir={tmp_path}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "test/acc=" in result.stdout


def test_a_single_input_model_on_two_inputs_fails_naming_the_presets_that_fit(tmp_path):
    cfg = compose_train(["model=mlp", "data=sort_of_clevr"], tmp_path)
    with pytest.raises(ConfigError) as info:
        build(cfg)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("model=mlp does not fit data=sort_of_clevr: it takes one input")
    assert "SortOfClevrDataModule serves 2: [3, 32, 32] and [12]" in message
    assert message.endswith("model presets that fit data=sort_of_clevr: concat_vqa, film_vqa")


def test_a_head_for_another_problem_names_the_head_to_use(tmp_path):
    with pytest.raises(ConfigError, match="model presets that fit data=digits_parity: cnn model/"):
        build(compose_train(["model=cnn", "data=digits_parity"], tmp_path))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["model=cnn", "+model.backbone._args_.1.in_features=100"],
            r"^model.backbone._args_.1.in_features=100: MLP expected .* the input has 256\); "
            r"set it to 256 or to null",
        ),
        (
            ["model=mlp", "model.backbone.in_features=65"],
            r"^model.backbone.in_features=65: MLP expected input of shape \(N, 65\)",
        ),
    ],
)
def test_a_wrong_width_names_the_config_key_to_change(overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        build(compose_train(overrides, tmp_path))


def test_lazy_widths_load_weights_of_concrete_configs():
    from zoo.training.presets import preset_config
    from zoo.utils.builder import build_model

    lazy = build_model(preset_config("cnn", {}))
    assert lazy.backbone[1].in_features == 256  # found by the Classifier's dry run
    concrete = preset_config("cnn", {})
    concrete["backbone"]["_args_"][1]["in_features"] = 256  # as shipped config.json files hold
    lazy.load_state_dict(build_model(concrete).state_dict())
