"""The registry and pretrained weights: architectures apart from weights, verified, strict,
reproducible, portable, and carrying their preprocessing."""

import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import pytest
import torch
from conftest import CONF, compose_train
from test_imports import HEAVY, modules_after

import zoo
from zoo import registry as hub
from zoo.cli.eval import evaluate
from zoo.registry import names
from zoo.registry.names import OLD_NAMES
from zoo.registry.sources import resolve
from zoo.training import presets
from zoo.training.run import train
from zoo.utils.builder import build, build_model, locate
from zoo.utils.preprocessing import preprocess

SHIPPED = zoo.list_pretrained()
CARDS = {name: zoo.model_card(name) for name in SHIPPED}
PRESETS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))


def weights_of(arch: str) -> list[str]:
    return [name for name in SHIPPED if name.split(".")[0] == arch]


# ------------------------------------------------------------------------------------ names


def test_list_models_lists_the_architectures_and_list_pretrained_the_weights():
    assert zoo.list_models() == PRESETS
    assert {"cnn", "mlp", "unet", "vae", "siamese_cnn", "seq2seq"} <= set(PRESETS)
    assert "head" not in PRESETS and "multiclass" not in PRESETS  # a config group, not a preset
    assert zoo.list_models("m*") == [p for p in PRESETS if p.startswith("m")]
    assert sorted(p.parent.name for p in hub.REGISTRY.glob(f"*/{hub.WEIGHTS}")) == SHIPPED
    assert zoo.list_models(pretrained=True) == SHIPPED  # timm: pretrained=True lists arch.tag
    assert zoo.list_pretrained("cnn.*") == weights_of("cnn")
    assert not set(SHIPPED) & set(PRESETS)
    total = sum(f.stat().st_size for f in hub.REGISTRY.rglob("*"))
    assert total < 1.6e7  # about 15.1 MB: the largest, a 2 x 800 MLP, is 2.8 MB


@pytest.mark.parametrize("name", SHIPPED)
def test_weights_are_named_architecture_dot_tag_as_their_card_says(name):
    card = CARDS[name]
    arch, _, tag = name.partition(".")
    assert tag and arch in PRESETS
    assert card["name"] == name and card["architecture"] == arch
    assert (CONF / "experiment" / f"{card['experiment']}.yaml").is_file()
    assert card["command"] == f"python train.py experiment={card['experiment']}"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_builds_the_experiments_architecture(name, tmp_path):
    """The experiment that trained the weights still composes (with its data's spec, as
    train.py builds it) into a model whose weights have the shipped ones' names and shapes."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf, open_dict

    cfg = compose_train([f"experiment={CARDS[name]['experiment']}"], tmp_path)
    assert HydraConfig.get().runtime.choices.model == CARDS[name]["architecture"]
    data = build(OmegaConf.to_container(cfg.data, resolve=True), kinds=("data",))
    with open_dict(cfg):
        cfg.data_spec = data.spec()
    composed = build_model(OmegaConf.to_container(cfg.model, resolve=True)).state_dict()
    shipped = zoo.create_model(name).state_dict()
    assert {k: v.shape for k, v in composed.items()} == {k: v.shape for k, v in shipped.items()}


def test_a_name_that_misses_reads_no_card(monkeypatch):
    """Old names are a table, not a search: an unknown name is refused without opening a card."""
    from zoo.registry import files

    def no_reading(directory):
        raise AssertionError(f"read the card in {directory}")

    monkeypatch.setattr(files, "read_card", no_reading)
    monkeypatch.setattr(names, "read_card", no_reading)
    with pytest.raises(KeyError, match="unknown model 'cnn_digitz'; did you mean 'cnn_digits'"):
        hub.weights_name("cnn_digitz")


def test_old_experiment_names_keep_working_and_say_they_are_deprecated():
    with pytest.warns(
        DeprecationWarning, match=r"'cnn_digits' names the experiment .*'cnn.digits'"
    ):
        hub.weights_name("cnn_digits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # each use below warns as above
        for old, name in OLD_NAMES.items():  # each names the weights its experiment trained
            assert CARDS[name]["experiment"] == old
            assert hub.weights_name(old) == name and zoo.model_card(old) == CARDS[name]
        x = torch.randn(4, 1, 8, 8)
        old, new = (zoo.create_model(n, pretrained=True) for n in ("cnn_digits", "cnn.digits"))
        assert torch.equal(old(x), new(x))
        assert old.pretrained_cfg == new.pretrained_cfg
        assert zoo.get_pretrained_cfg("cnn_digits") == new.pretrained_cfg
        assert hub.model_config("cnn_digits") == hub.model_config("cnn.digits")
        backbone = zoo.create_model("cnn").backbone
        zoo.load_pretrained(backbone, "cnn_digits", prefix="backbone.")
        assert torch.equal(backbone.eval()(x), new.backbone(x))


def test_zoo_hub_answers_with_a_deprecation_warning_and_dir_zoo_shows_the_api():
    import zoo.hub

    with pytest.warns(
        DeprecationWarning, match=r"zoo.hub.create_model is deprecated: use zoo.registry"
    ):
        assert zoo.hub.create_model is zoo.registry.create_model
    assert set(dir(zoo)) == {*zoo.__all__, "__version__"}
    assert {"create_model", "register"} <= set(dir(zoo)) and "importlib" not in dir(zoo)


def test_a_card_from_a_newer_zoo_warns_on_load(tmp_path):
    folder = shutil.copytree(hub.REGISTRY / "mlp.digits", tmp_path / "mlp")
    card = hub.read_card(folder) | {"zoo_version": "99.0"}
    (folder / hub.CARD).write_text(json.dumps(card))
    with pytest.warns(UserWarning, match=r"written by zoo 99.0, newer than the installed"):
        zoo.from_pretrained(folder)


def test_unknown_names_suggest_the_closest_and_where_to_look():
    hint = r"zoo\.list_models\(\) lists the architectures, zoo\.list_pretrained\(\) the"
    with pytest.raises(KeyError, match=r"unknown model 'cnn.digit'; did you mean 'cnn.digits'"):
        zoo.create_model("cnn.digit")
    with pytest.raises(KeyError, match=r"unknown model 'unett'; did you mean 'unet'.*" + hint):
        zoo.create_model("unett")
    with pytest.raises(KeyError, match=r"unknown model 'cnn_digit'; did you mean 'cnn_digits'"):
        zoo.model_card("cnn_digit")


def test_an_architecture_with_pretrained_true_loads_its_only_weights_or_names_them():
    several = next(a for a in PRESETS if len(weights_of(a)) > 1)
    with pytest.raises(KeyError, match=r"several pretrained weights.*name one") as error:
        zoo.create_model(several, pretrained=True)
    assert all(repr(w) in str(error.value) for w in weights_of(several))
    assert f"zoo.list_pretrained('{several}.*')" in str(error.value)
    single = next(a for a in PRESETS if len(weights_of(a)) == 1)
    net = zoo.create_model(single, pretrained=True)
    assert net.pretrained_cfg["card"]["name"] == weights_of(single)[0]
    none = next(a for a in PRESETS if not weights_of(a))
    with pytest.raises(KeyError, match=rf"architecture '{none}' has no pretrained weights"):
        zoo.create_model(none, pretrained=True)


# ----------------------------------------------------------------------- building presets


def test_every_architecture_builds_from_its_preset_with_torch_alone():
    loaded = modules_after(
        "import torch, zoo\n"
        "for arch in zoo.list_models():\n"
        "    net = zoo.create_model(arch)\n"
        "    assert 'input_shape' in net.pretrained_cfg, arch\n"
        "zoo.create_model('cnn', num_classes=5, dropout=0.1)(torch.zeros(2, 1, 8, 8))\n"
        "zoo.get_pretrained_cfg('cnn.digits'); zoo.create_model('cnn.digits')"
    )
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_presets_compose_without_hydra_as_hydra_composes_them():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(str(CONF), version_base="1.3"):
        for arch in PRESETS:
            cfg = OmegaConf.to_container(compose(f"model/{arch}").model, resolve=False)
            assert presets.compose_preset(arch) == cfg, arch


def test_a_fresh_preset_is_the_architecture_of_its_shipped_weights():
    fresh, x = zoo.create_model("cnn").eval(), torch.randn(4, 1, 8, 8)
    zoo.load_pretrained(fresh, "cnn.digits")  # strict: every key and shape fits
    assert torch.equal(fresh(x), zoo.create_model("cnn.digits", pretrained=True)(x))
    assert hub.model_config("multimodal")["modalities"] == ["image", "tone"]  # data's default


def test_a_weights_name_without_pretrained_builds_their_architecture_freshly():
    fresh, trained = zoo.create_model("cnn.digits"), zoo.create_model("cnn.digits", pretrained=True)
    assert fresh.zoo_config == trained.zoo_config
    assert fresh.state_dict().keys() == trained.state_dict().keys()
    assert not torch.equal(fresh.head.linear.weight, trained.head.linear.weight)
    record = dict(trained.pretrained_cfg)
    record.pop("card")
    assert fresh.pretrained_cfg == record  # the preprocessing of the data it would train on


@pytest.fixture
def preset_folder(tmp_path, monkeypatch) -> Path:
    """A preset folder reading the data through `data_spec`, as train.py fills it in."""
    model = tmp_path / "model"
    (model / "head").mkdir(parents=True)
    (model / "head" / "multiclass.yaml").write_text(
        "_target_: zoo.blocks.MultiClassHead\n_partial_: true\n"
        "num_classes: ${oc.select:data_spec.num_outputs,10}\n"
    )
    (model / "net.yaml").write_text(
        "defaults:\n  - head: multiclass\n  - _self_\n"
        "_target_: zoo.patterns.Classifier\n"
        "input_shape: ${oc.select:data_spec.input_shape,[1,8,8]}\n"
        "backbone:\n  _target_: zoo.blocks.MLP\n"
        "  in_features: ${oc.select:data_spec.in_features,64}\n"
        "  hidden: ['${model.width}']\n"
        "width: 16\n"
        "tag: ${oc.select:data.tag,alone}\n"
    )
    (model / "wide.yaml").write_text(
        "defaults:\n  - net\n  - _self_\nwidth: 32\nhead:\n  num_classes: 3\n"
    )
    monkeypatch.setattr(presets, "PRESETS", model)
    return model


def test_shapes_and_class_counts_reach_the_presets_data_spec(preset_folder):
    assert zoo.list_models() == ["net", "wide"]
    config = hub.model_config("net", input_shape=[3, 4, 4], num_classes=5)
    assert config["input_shape"] == [3, 4, 4]
    assert config["backbone"]["in_features"] == 48  # in_features = prod(input_shape)
    assert config["head"]["num_classes"] == 5
    assert config["tag"] == "alone"  # ${data.tag} has no data outside a run: its fallback
    default = hub.model_config("net")
    assert default["input_shape"] == [1, 8, 8] and default["head"]["num_classes"] == 10
    assert hub.model_config("net", width=8)["backbone"]["hidden"] == [8]  # before resolution
    wide = hub.model_config("wide")  # inherits from net; its own keys win, into groups too
    assert wide["backbone"]["hidden"] == [32] and wide["head"]["num_classes"] == 3
    assert wide["head"]["_target_"] == "zoo.blocks.MultiClassHead"


def test_shapes_and_class_counts_reach_the_shipped_presets():
    for arch in ("cnn", "mlp"):
        net = zoo.create_model(arch, input_shape=[3, 12, 12], num_classes=5)
        assert net(torch.zeros(2, 3, 12, 12)).shape == (2, 5), arch
        assert net.pretrained_cfg["input_shape"] == [3, 12, 12]
    assert zoo.create_model("unet", num_classes=3).zoo_config["num_classes"] == 3


def test_keyword_arguments_a_preset_does_not_read_from_data_spec_are_overrides(preset_folder):
    (preset_folder / "plain.yaml").write_text(
        "_target_: zoo.patterns.UNet\ninput_shape: [1, 16, 16]\nnum_classes: 4\nchannels: [4, 8]\n"
    )
    config = hub.model_config("plain", num_classes=3, input_shape=[1, 32, 32])
    assert config["num_classes"] == 3 and config["input_shape"] == [1, 32, 32]


def test_overrides_reach_keys_inside_args_lists_by_path_dunder_or_suffix():
    def dropout(**kwargs):
        return zoo.create_model("cnn", **kwargs).zoo_config["backbone"]["_args_"][1]["dropout"]

    assert dropout(backbone___args___1__dropout=0.1) == 0.1
    assert dropout(**{"backbone._args_.1.dropout": 0.2}) == 0.2
    assert dropout(dropout=0.3) == 0.3
    assert dropout(**{"1.dropout": 0.4}) == 0.4
    net = zoo.create_model("mlp", backbone__hidden=[32])
    assert net.backbone.out_features == 32
    vae = zoo.create_model("vae", latent_dim=4)  # interpolations follow the override
    assert vae.zoo_config["decoder"]["in_features"] == 4


def test_the_override_error_lists_exactly_the_keys_it_accepts():
    with pytest.raises(TypeError, match=r"override widht=3 matches no key") as error:
        zoo.create_model("cnn", widht=3)
    keys = json.loads(re.search(r"keys are (\[.*\])", str(error.value))[1].replace("'", '"'))
    assert "backbone._args_.1.dropout" in keys and "head.num_classes" in keys
    assert not [k for k in keys if k.split(".")[-1].startswith("_")]
    config = hub.model_config("cnn")
    for key in keys:
        node = config
        for part in key.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert hub.model_config("cnn", **{key: node}) == config, key
    with pytest.raises(TypeError, match=r"matches several keys \['decoder.hidden', 'encoder"):
        zoo.create_model("autoencoder", hidden=[64])


# ---------------------------------------------------------------------- weights and records


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_load_strictly_and_reproduce_their_card(name):
    card = CARDS[name]
    assert card["sha256"] == hub.sha256(hub.REGISTRY / name / hub.WEIGHTS)
    assert len(card["sha256"]) == 64
    net = zoo.create_model(name, pretrained=True)
    assert card["num_params"] == sum(p.numel() for p in net.parameters())
    assert set(card["split"]) == {"train", "val", "test"} and card["license"] and card["dataset"]
    metrics = evaluate(net, card["data"], card["task"], "test")
    assert metrics.keys() == card["metrics"].keys()
    for key, value in card["metrics"].items():
        assert metrics[key] == pytest.approx(value, abs=1e-4), key


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_carry_a_preprocessing_record_and_their_card(name):
    record = zoo.get_pretrained_cfg(name)
    assert set(record) == {
        "input_shape",
        "raw_max",
        "threshold",
        "mean",
        "std",
        "problem",
        "class_names",
        "card",
    }
    assert record["card"] == CARDS[name]
    assert record["raw_max"] > 0 and len(record["mean"]) == len(record["std"])


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_records_are_those_of_the_cards_data(name):
    data = dict(CARDS[name]["data"])
    if "data_dir" in data:
        data["data_dir"] = "data"
    task = locate(CARDS[name]["task"]["_target_"], kinds=("task",))
    expected = task.record_for(build(data, kinds=("data",)))
    record = zoo.get_pretrained_cfg(name).with_changes(card=None)
    assert record == expected


def test_get_pretrained_cfg_reads_no_weights(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("weights were read")

    monkeypatch.setattr(hub, "load_weights", refuse)
    record = zoo.get_pretrained_cfg("cnn.digits")
    assert record["card"]["name"] == "cnn.digits" and record["raw_max"] == 16
    assert zoo.get_pretrained_cfg("cnn")["raw_max"] == 1  # an architecture: a fresh record


def test_cnn_digits_preprocesses_raw_digits_as_in_training():
    from sklearn.datasets import load_digits

    from zoo.data.digits import stratified_split
    from zoo.utils.preprocessing import preprocess

    net = zoo.create_model("cnn.digits", pretrained=True)
    record = net.pretrained_cfg
    assert record["raw_max"] == 16 and record["input_shape"] == [1, 8, 8]
    assert record["mean"] == [pytest.approx(0.3034, abs=1e-3)]
    assert record["std"] == [pytest.approx(0.3750, abs=1e-3)]
    assert record["problem"] == "multiclass" and record["class_names"] == list("0123456789")
    digits = load_digits()
    y = torch.from_numpy(digits.target)
    test = stratified_split(y, 0.1, 0.5, 0)["test"]
    raw = torch.from_numpy(digits.images).float()[test, None]  # pixels 0..16
    assert len(test) == record["card"]["split"]["test"] and raw.max() == 16
    with torch.no_grad():
        accuracy = (net(preprocess(raw, record)).argmax(1) == y[test]).float().mean().item()
    assert accuracy == pytest.approx(record["card"]["metrics"]["test/acc"], abs=1e-4)
    with torch.no_grad():  # the record matters: raw pixels straight in score far worse
        assert (net(raw).argmax(1) == y[test]).float().mean().item() < accuracy - 0.02


def test_a_fresh_model_carries_a_default_record():
    record = zoo.create_model("cnn").pretrained_cfg
    assert record == {
        "input_shape": [1, 8, 8],
        "raw_max": 1.0,
        "threshold": None,
        "mean": [0.0],
        "std": [1.0],
        "problem": "multiclass",
        "class_names": None,
    }
    assert zoo.create_model("multimodal").pretrained_cfg["input_shape"] == [[1, 8, 8], [1, 32]]
    assert zoo.create_model("vae").pretrained_cfg["problem"] is None


def test_load_checkpoint_rebuilds_the_trained_net_with_its_record(tmp_path):
    cfg = compose_train(["experiment=mlp_digits", "trainer.max_epochs=2"], tmp_path)
    train(cfg)
    last = tmp_path / "checkpoints" / "last.ckpt"
    net = zoo.load_checkpoint(last)
    state = torch.load(last, weights_only=True)["state_dict"]
    x = torch.randn(8, 1, 8, 8)
    reference = build_model(hub.model_config("mlp.digits")).eval()
    reference.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
    assert torch.equal(net(x), reference(x))
    assert not net.training
    expected = build(dict(cfg.data), kinds=("data",)).preprocessing_record()
    assert net.pretrained_cfg == expected and net.pretrained_cfg["raw_max"] == 16


# ------------------------------------------------------------------------------ round trips


def test_save_and_from_pretrained_give_identical_outputs(tmp_path):
    net = zoo.create_model("cnn.digits", pretrained=True)
    x = torch.randn(16, 1, 8, 8)
    zoo.save_pretrained(net, tmp_path / "cnn")
    again = zoo.from_pretrained(tmp_path / "cnn")
    assert torch.equal(net(x), again(x))
    assert sorted(p.name for p in (tmp_path / "cnn").iterdir()) == [
        "card.json",
        "config.json",
        "model.safetensors",
    ]


def test_save_pretrained_keeps_the_card_and_record_so_eval_works(tmp_path, capsys):
    from zoo.cli.eval import main as eval_main

    net = zoo.create_model("cnn.digits", pretrained=True)
    zoo.save_pretrained(net, tmp_path / "cnn", card={"note": "a copy"})
    card = zoo.from_pretrained(tmp_path / "cnn").pretrained_cfg["card"]
    assert card == {**CARDS["cnn.digits"], "note": "a copy"}
    again = zoo.from_pretrained(tmp_path / "cnn").pretrained_cfg
    assert again == {**net.pretrained_cfg, "card": card}
    eval_main([str(tmp_path / "cnn")])
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert float(printed["test/acc"]) == pytest.approx(card["metrics"]["test/acc"], abs=1e-4)


def python_composed():
    from zoo.blocks import MLP, MultiClassHead
    from zoo.patterns import Classifier

    return Classifier(MLP(64, [16]), lambda width: MultiClassHead(width, 10), (1, 8, 8))


CONFIG = {
    "_target_": "zoo.patterns.Classifier",
    "backbone": {"_target_": "zoo.blocks.MLP", "in_features": 64, "hidden": [16]},
    "head": {"_target_": "zoo.blocks.MultiClassHead", "_partial_": True, "num_classes": 10},
    "input_shape": [1, 8, 8],
}


def test_a_model_composed_in_python_saves_with_an_explicit_config(tmp_path):
    net = python_composed().eval()
    with pytest.raises(ValueError, match=r"Classifier has no zoo_config.*pass config="):
        zoo.save_pretrained(net, tmp_path / "a")
    assert not (tmp_path / "a").exists()
    wrong = {**CONFIG, "backbone": {**CONFIG["backbone"], "hidden": [8]}}
    with pytest.raises(ValueError, match=r"do not match.*shape differs: \['backbone"):
        zoo.save_pretrained(net, tmp_path / "b", config=wrong)
    zoo.save_pretrained(net, tmp_path / "c", config=CONFIG)
    again, x = zoo.from_pretrained(tmp_path / "c"), torch.randn(4, 1, 8, 8)
    assert torch.equal(net(x), again(x))
    assert again.pretrained_cfg["input_shape"] == [1, 8, 8]


def test_from_pretrained_builds_user_classes_only_from_allowed_packages(tmp_path, monkeypatch):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import torch\n\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self, width: int) -> None:\n"
        "        super().__init__()\n"
        "        self.linear = torch.nn.Linear(4, width)\n\n"
        "    def forward(self, x):\n"
        "        return self.linear(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mypkg", raising=False)
    import mypkg

    net, config = mypkg.Net(3), {"_target_": "mypkg.Net", "width": 3}
    zoo.save_pretrained(net, tmp_path / "mine", config=config)
    with pytest.raises(ValueError, match=r"_target_='mypkg.Net'.*allowed=\('mypkg\.',\)"):
        zoo.from_pretrained(tmp_path / "mine")
    x = torch.randn(2, 4)
    for again in (
        zoo.from_pretrained(tmp_path / "mine", allowed=("mypkg.",)),
        zoo.load_model(tmp_path / "mine", allowed=("mypkg.",)),
    ):
        assert isinstance(again, mypkg.Net) and torch.equal(again(x), net(x))


@pytest.fixture
def copied(tmp_path) -> Path:
    directory = tmp_path / "cnn"
    shutil.copytree(hub.REGISTRY / "cnn.digits", directory)
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
    with pytest.raises(hub.ChecksumError, match=r"config.json has sha256 .* but its card says"):
        zoo.from_pretrained(copied)
    card = hub.read_card(copied) | {"config_sha256": hub.sha256(copied / hub.CONFIG)}
    (copied / hub.CARD).write_text(json.dumps(card))  # an edit someone vouches for
    with pytest.raises(RuntimeError, match=r"shape differs: \['backbone.1.layers.0.bias'"):
        zoo.from_pretrained(copied)


def test_changed_head_needs_opt_in_and_says_what_it_adapted():
    with pytest.raises(RuntimeError, match=r"shape differs.*head.linear"):
        zoo.create_model("cnn.digits", pretrained=True, num_classes=5)
    with pytest.warns(
        UserWarning, match=r"re-initialised.*\['head.linear.bias', 'head.linear.weight'\]"
    ):
        net = zoo.create_model("cnn.digits", pretrained=True, num_classes=5, strict=False)
    reference = zoo.create_model("cnn.digits", pretrained=True)
    assert net.head.num_outputs == 5
    assert torch.equal(net.backbone[0].layers[0].weight, reference.backbone[0].layers[0].weight)


def test_a_pretrained_backbone_loads_into_another_model_by_prefix():
    backbone = zoo.create_model("cnn").backbone
    zoo.load_pretrained(backbone, "cnn.digits", prefix="backbone.")
    shipped = zoo.create_model("cnn.digits", pretrained=True).backbone
    x = torch.randn(4, 1, 8, 8)
    assert torch.equal(backbone.eval()(x), shipped(x))
    with pytest.raises(KeyError, match=r"no weights under prefix 'encoder.'"):
        zoo.load_pretrained(backbone, "cnn.digits", prefix="encoder.")


def test_configs_cannot_name_arbitrary_callables():
    with pytest.raises(ValueError, match=r"_target_='os.system': not a registered model"):
        build({"_target_": "os.system", "_args_": ["echo hacked"]})


def test_eval_predict_and_publish_entry_points(tmp_path, capsys):
    import numpy as np
    from sklearn.datasets import load_digits

    from zoo.cli.eval import main as eval_main
    from zoo.cli.predict import main as predict_main
    from zoo.cli.publish import publish

    eval_main(["cnn.digits_parity"])
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert float(printed["test/acc"]) == pytest.approx(
        CARDS["cnn.digits_parity"]["metrics"]["test/acc"], abs=1e-4
    )

    digits = load_digits()
    np.save(tmp_path / "x.npy", digits.images[:200, None].astype("float32"))
    predict_main(["cnn.digits", str(tmp_path / "x.npy"), "--raw", "--out", str(tmp_path / "p.csv")])
    rows = (tmp_path / "p.csv").read_text().splitlines()
    assert rows[0].startswith("index,prediction,p0") and len(rows) == 201
    predicted = [int(r.split(",")[1]) for r in rows[1:]]
    assert np.mean(np.array(predicted) == digits.target[:200]) > 0.95

    run = tmp_path / "run"
    cfg = compose_train(["experiment=mlp_digits", "trainer.max_epochs=3"], run)
    train(cfg)
    with pytest.raises(ValueError, match=r"expected <architecture>.<tag>"):
        publish(run, "mlp_small", registry=tmp_path / "registry")
    with pytest.raises(ValueError, match=r"'mpl' is no architecture"):
        publish(run, "mpl.small", registry=tmp_path / "registry")
    with pytest.raises(ValueError, match=r"the run trained a zoo.patterns.Classifier, the 'vae'"):
        publish(run, "vae.small", registry=tmp_path / "registry")
    card = publish(run, "mlp.small", registry=tmp_path / "registry")
    assert card["trained"]["epoch"] <= 2 and card["num_params"] > 0
    assert (card["name"], card["architecture"], card["experiment"]) == (
        "mlp.small",
        "mlp",
        "mlp_digits",
    )
    record = json.loads((tmp_path / "registry" / "mlp.small" / hub.CONFIG).read_text())
    expected = build(dict(cfg.data), kinds=("data",)).preprocessing_record()
    assert record["pretrained_cfg"] == expected
    source = resolve(str(tmp_path / "registry" / "mlp.small"))
    again = evaluate(source.net, source.data, source.task)
    assert again["test/acc"] == pytest.approx(card["metrics"]["test/acc"], abs=1e-4)
    with pytest.raises(ValueError, match=r"already holds published weights; .* --force"):
        publish(run, "mlp.small", registry=tmp_path / "registry")
    assert publish(run, "mlp.small", registry=tmp_path / "registry", force=True)["sha256"]


def test_a_published_card_records_the_shipped_weights_its_run_loaded(tmp_path):
    """A student's card names its teacher's weights by sha256 (`depends_on`), so a teacher
    shipped later shows the student as stale (`zoo.registry.lineage`)."""
    from zoo.cli.publish import publish

    run = tmp_path / "run"
    train(compose_train(["experiment=distill_digits", "trainer.max_epochs=1"], run))
    card = publish(run, "mlp.student", registry=tmp_path / "registry")
    assert card["depends_on"] == {"cnn.digits_teacher": CARDS["cnn.digits_teacher"]["sha256"]}


def test_checkpoint_without_a_zoo_record_is_refused(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(ValueError, match=r"has no zoo model config: was it written by train\.py"):
        zoo.load_checkpoint(tmp_path / "foreign.ckpt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zoo.create_model("mlp.digits", pretrained=True)  # a clean load says nothing


def test_predict_refuses_models_it_cannot_serve():
    from zoo.cli.predict import predict

    with pytest.raises(
        ValueError, match=r"film_vqa.sort_of_clevr: zoo-predict serves single-input models"
    ):
        predict("film_vqa.sort_of_clevr", torch.zeros(1, 3, 32, 32))
    with pytest.raises(
        ValueError, match=r"autoencoder.digits: zoo-predict serves single-input models"
    ):
        predict("autoencoder.digits", torch.zeros(1, 1, 8, 8))


def test_the_registry_documents_what_each_public_function_takes_and_returns():
    import inspect

    public = [
        obj
        for name, obj in vars(hub).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__.startswith("zoo.registry.")
    ]
    assert len(public) > 15
    assert not [obj.__name__ for obj in public if not (obj.__doc__ or "").strip()]


def test_a_checkpoint_written_before_records_gets_its_datas_record(tmp_path):
    net = zoo.create_model("cnn.digits", pretrained=True)
    card = zoo.model_card("cnn.digits")
    old = {  # what train.py wrote before checkpoints carried the record
        "zoo": {"model": net.zoo_config, "run": {"data": card["data"]}},
        "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
    }
    torch.save(old, tmp_path / "old.ckpt")
    record = zoo.load_checkpoint(tmp_path / "old.ckpt").pretrained_cfg
    expected = dict(net.pretrained_cfg)
    expected.pop("card")
    assert record == expected  # raw maximum 16 and the digits' mean and std, not identity


def test_a_bernoulli_models_record_binarises_raw_pixels_as_its_data_did():
    from zoo.data import DigitsDataModule
    from zoo.data.digits import load_digit_images

    record = zoo.get_pretrained_cfg("vae.digits")
    assert record["problem"] == "generation" and record["class_names"] is None
    unit, _ = load_digit_images()  # pixels 0-16 scaled to [0, 1]
    served = DigitsDataModule(scale="binary", test_fraction=0.5).load_unit()
    inputs = preprocess((unit * 16).round(), record)
    assert set(inputs.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(inputs.sum(), torch.cat([x for x, _ in served.values()]).sum())


IMAGE_CLASSIFIERS = [n for n in SHIPPED if n.split(".")[0] in ("cnn", "mlp", "vit")]


@pytest.mark.parametrize("name", IMAGE_CLASSIFIERS)
def test_image_classifiers_answer_timms_interface(name, tmp_path):
    """forward_features, get_classifier, reset_classifier and num_classes=0, as timm's models
    have them, for every image preset with shipped weights."""
    net = zoo.create_model(name, pretrained=True)
    x = torch.randn(3, *net.input_shape)
    features = net.forward_features(x)
    assert features.shape == (3, net.num_features)
    assert net.get_classifier() is net.head
    assert torch.equal(net(x), net.head(features))  # the head reads exactly these features
    bare = zoo.create_model(name, pretrained=True, num_classes=0)
    assert isinstance(bare.get_classifier(), torch.nn.Identity)
    assert torch.equal(bare.eval()(x), features)  # the backbone keeps its trained weights
    if net.head.problem == "binary":  # one logit, or none
        with pytest.raises(ValueError, match=r"num_classes=3: a BinaryHead has one logit"):
            net.reset_classifier(3)
        net.reset_classifier(0)
        net.reset_classifier(3)  # from features: a multi-class head
    else:
        net.reset_classifier(3)
    assert net(x).shape[-1] == 3 and torch.equal(net.forward_features(x), features)
    again = zoo.from_pretrained(zoo.save_pretrained(net, tmp_path / "three"))
    assert torch.equal(again(x), net.eval()(x))  # the reset head's config saves and reloads


def test_num_classes_zero_needs_a_classifier():
    with pytest.raises(ValueError, match=r"num_classes=0: 'vae' builds a VAE, which has no"):
        zoo.create_model("vae", num_classes=0)


@pytest.mark.parametrize(
    "arch",
    ["multimodal", "objects_mlp", "relation_network", "film_vqa", "concat_vqa", "rnn_regressor"],
)
def test_every_pattern_ending_in_a_head_answers_timms_interface(arch):
    """Multi-input, relational, VQA and sequence patterns: the head reads forward_features,
    and reset_classifier(0) / (n) leaves the features / puts an n-output head on them."""
    net = zoo.create_model(arch).eval()
    shape = net.pretrained_cfg["input_shape"]
    inputs = [torch.randn(2, *s) for s in (shape if isinstance(shape[0], list) else [shape])]
    features = net.forward_features(*inputs)
    assert features.shape == (2, net.num_features)
    assert torch.equal(net(*inputs), net.get_classifier()(features))
    net.reset_classifier(0)
    assert torch.equal(net(*inputs), features) and net.num_features == features.shape[1]
    net.reset_classifier(4)
    assert net(*inputs).shape[-1] == 4
