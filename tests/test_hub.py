"""The registry and pretrained weights: verified, strict, reproducible, portable."""

import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from conftest import compose_train

import zoo
from zoo import hub
from zoo.builder import build
from zoo.cli.eval import evaluate
from zoo.cli.run import train
from zoo.cli.sources import resolve

SHIPPED = zoo.list_models(pretrained=True)
PUBLISHED = [
    "adversarial_digits",
    "ae_digits",
    "attention_retrieval",
    "binary_digits",
    "cnn_digits",
    "dae_digits",
    "distill_digits",
    "distill_small_digits",
    "film_sort_of_clevr",
    "gan_digits",
    "koch_glyphs",
    "mlp_digits",
    "multilabel_digits",
    "multimodal_digits",
    "multitask_digits",
    "pixelcnn_digits",
    "relation_sort_of_clevr",
    "seq2seq_reverse",
    "seq2seq_reverse_attention",
    "siamese_glyphs",
    "teacher_digits",
    "triplet_glyphs",
    "unet_shapes",
    "vae_digits",
]


def test_the_published_experiments_ship_weights():
    assert SHIPPED == PUBLISHED
    assert zoo.list_models("m*") == [
        "mlp_digits",
        "multilabel_digits",
        "multimodal_digits",
        "multitask_digits",
    ]
    total = sum(f.stat().st_size for f in hub.REGISTRY.rglob("*"))
    assert total < 1e7  # a few MB: the largest, distill_digits' 2 x 800 MLP, is 2.8 MB


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_load_strictly_and_reproduce_their_card(name, tmp_path):
    card = zoo.model_card(name)
    assert card["sha256"] == hub.sha256(hub.REGISTRY / name / hub.WEIGHTS)
    assert len(card["sha256"]) == 64
    net = zoo.create_model(name, pretrained=True)
    assert card["num_params"] == sum(p.numel() for p in net.parameters())
    assert card["command"] == f"python train.py experiment={name}"
    assert set(card["split"]) == {"train", "val", "test"} and card["license"] and card["dataset"]
    metrics = evaluate(net, card["data"], card["task"], "test")
    assert metrics.keys() == card["metrics"].keys()
    for key, value in card["metrics"].items():
        assert metrics[key] == pytest.approx(value, abs=1e-4), key


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_is_the_experiments_model_config(name, tmp_path):
    from omegaconf import OmegaConf

    cfg = compose_train([f"experiment={name}"], tmp_path)
    assert OmegaConf.to_container(cfg.model, resolve=True) == hub.model_config(name)


def test_save_and_from_pretrained_give_identical_outputs(tmp_path):
    net = zoo.create_model("cnn_digits", pretrained=True)
    x = torch.randn(16, 1, 8, 8)
    zoo.save_pretrained(net, tmp_path / "cnn")
    again = zoo.from_pretrained(tmp_path / "cnn")
    assert torch.equal(net(x), again(x))
    assert sorted(p.name for p in (tmp_path / "cnn").iterdir()) == [
        "card.json",
        "config.json",
        "model.safetensors",
    ]


def test_load_checkpoint_rebuilds_the_trained_net_without_hydra(tmp_path):
    cfg = compose_train(["experiment=mlp_digits", "trainer.max_epochs=2"], tmp_path)
    train(cfg)
    last = tmp_path / "checkpoints" / "last.ckpt"
    net = zoo.load_checkpoint(last)
    state = torch.load(last, weights_only=True)["state_dict"]
    x = torch.randn(8, 1, 8, 8)
    reference = hub.build_model(hub.model_config("mlp_digits")).eval()
    reference.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
    assert torch.equal(net(x), reference(x))
    assert not net.training


@pytest.fixture
def copied(tmp_path) -> Path:
    directory = tmp_path / "cnn"
    shutil.copytree(hub.REGISTRY / "cnn_digits", directory)
    return directory


def test_one_changed_byte_fails_the_checksum(copied):
    weights = copied / hub.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(
        hub.ChecksumError, match=r"sha256 .* but its card says .*nothing was loaded"
    ):
        zoo.from_pretrained(copied)


def test_truncated_file_fails_the_checksum(copied):
    weights = copied / hub.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(hub.ChecksumError):
        zoo.from_pretrained(copied)


def test_config_that_does_not_fit_the_weights_loads_nothing(copied):
    config = json.loads((copied / hub.CONFIG).read_text())
    config["model"]["backbone"]["_args_"][1]["hidden"] = [64]
    (copied / hub.CONFIG).write_text(json.dumps(config))
    with pytest.raises(RuntimeError, match=r"shape differs: \['backbone.1.layers.0.bias'"):
        zoo.from_pretrained(copied)


def test_wrong_name_suggests_the_closest():
    with pytest.raises(KeyError, match=r"unknown model 'cnn_digit'; did you mean 'cnn_digits'"):
        zoo.create_model("cnn_digit")


def test_changed_head_needs_opt_in_and_says_what_it_adapted():
    with pytest.raises(RuntimeError, match=r"shape differs.*head.linear"):
        zoo.create_model("cnn_digits", pretrained=True, num_classes=5)
    with pytest.warns(
        UserWarning, match=r"re-initialised.*\['head.linear.bias', 'head.linear.weight'\]"
    ):
        net = zoo.create_model("cnn_digits", pretrained=True, num_classes=5, strict=False)
    reference = zoo.create_model("cnn_digits", pretrained=True)
    assert net.head.num_outputs == 5
    assert torch.equal(net.backbone[0].layers[0].weight, reference.backbone[0].layers[0].weight)


def test_overrides_find_their_key_or_list_the_keys():
    net = zoo.create_model("mlp_digits", backbone__hidden=[32])
    assert net.backbone.out_features == 32
    with pytest.raises(
        TypeError,
        match=r"override widht=3 matches no key; the model's keys are \[.*backbone.hidden",
    ):
        zoo.create_model("mlp_digits", widht=3)


def test_a_pretrained_backbone_loads_into_another_model_by_prefix():
    backbone = zoo.create_model("cnn_digits").backbone
    zoo.load_pretrained(backbone, "cnn_digits", prefix="backbone.")
    shipped = zoo.create_model("cnn_digits", pretrained=True).backbone
    x = torch.randn(4, 1, 8, 8)
    assert torch.equal(backbone.eval()(x), shipped(x))
    with pytest.raises(KeyError, match=r"no weights under prefix 'encoder.'"):
        zoo.load_pretrained(backbone, "cnn_digits", prefix="encoder.")


def test_configs_cannot_name_arbitrary_callables():
    with pytest.raises(ValueError, match=r"_target_='os.system': expected a callable under one of"):
        build({"_target_": "os.system", "_args_": ["echo hacked"]})


def test_eval_predict_and_publish_entry_points(tmp_path, capsys):
    from zoo.cli.eval import main as eval_main
    from zoo.cli.predict import main as predict_main
    from zoo.cli.publish import publish

    eval_main(["binary_digits"])
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert float(printed["test/acc"]) == pytest.approx(
        zoo.model_card("binary_digits")["metrics"]["test/acc"], abs=1e-4
    )

    from sklearn.datasets import load_digits

    digits = load_digits()
    import numpy as np

    np.save(tmp_path / "x.npy", digits.images[:200, None].astype("float32"))
    predict_main(["cnn_digits", str(tmp_path / "x.npy"), "--raw", "--out", str(tmp_path / "p.csv")])
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0].startswith("index,prediction,p0") and len(rows) == 201
    predicted = [int(r.split(",")[1]) for r in rows[1:]]
    assert np.mean(np.array(predicted) == digits.target[:200]) > 0.95

    run = tmp_path / "run"
    train(compose_train(["experiment=mlp_digits", "trainer.max_epochs=3"], run))
    card = publish(run, "mlp_small", registry=tmp_path / "registry")
    assert card["trained"]["epoch"] <= 2 and card["num_params"] > 0
    source = resolve(str(tmp_path / "registry" / "mlp_small"))
    again = evaluate(source.net, source.data, source.task)
    assert again["test/acc"] == pytest.approx(card["metrics"]["test/acc"], abs=1e-4)


def test_checkpoint_without_a_zoo_record_is_refused(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(ValueError, match=r"has no zoo model config: was it written by train\.py"):
        zoo.load_checkpoint(tmp_path / "foreign.ckpt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zoo.create_model("mlp_digits", pretrained=True)  # a clean load says nothing


def test_predict_refuses_models_it_cannot_serve():
    from zoo.cli.predict import predict

    with pytest.raises(
        ValueError, match=r"film_sort_of_clevr: zoo\.predict serves single-input models"
    ):
        predict("film_sort_of_clevr", torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"ae_digits: zoo\.predict serves single-input models"):
        predict("ae_digits", torch.zeros(1, 1, 8, 8))
