"""Initialisation as a config choice of every model (`model.init`), and what it does to a deep
plain MLP: the signal's size across depth at initialisation, and whether it learns."""

import math

import pytest
import torch
from conftest import compose_train

import zoo
from zoo.analysis.init_statistics import layer_statistics
from zoo.data import DigitsDataModule
from zoo.training.run import train
from zoo.utils.initialization import initialize


def test_each_scheme_draws_weights_of_its_scale_and_leaves_biases():
    layer = torch.nn.Linear(400, 100)
    bias = layer.bias.detach().clone()
    expected = {
        "normal_0.01": 0.01,
        "normal_1": 1.0,
        "glorot": math.sqrt(2 / 500),
        "he": math.sqrt(2 / 400),
        "orthogonal": math.sqrt(1 / 400),  # unit rows over 400 inputs
    }
    for scheme, std in expected.items():
        torch.manual_seed(0)
        initialize(layer, scheme)
        assert float(layer.weight.std()) == pytest.approx(std, rel=0.05), scheme
        assert torch.equal(layer.bias, bias)
    with pytest.raises(ValueError, match=r"model.init='xavier': expected one of"):
        initialize(layer, "xavier")


def test_every_model_takes_an_init_and_keeps_it_in_its_config(tmp_path):
    net = zoo.create_model("cnn", init="orthogonal")
    assert net.zoo_config["init"] == "orthogonal"
    convs = [m.weight.flatten(1) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    w = convs[1]  # 64 filters over 32 x 3 x 3 inputs: orthonormal rows
    torch.testing.assert_close(w @ w.T, torch.eye(len(w)), atol=1e-5, rtol=0)
    assert "init" not in zoo.create_model("cnn").zoo_config  # as built: configs stay as before
    zoo.save_pretrained(net, tmp_path / "saved", config=net.zoo_config)
    again = zoo.from_pretrained(tmp_path / "saved")
    assert again.zoo_config["init"] == "orthogonal"
    x = torch.randn(2, 1, 8, 8)
    torch.testing.assert_close(again.eval()(x), net.eval()(x))


def test_an_unknown_init_is_refused_before_training(tmp_path):
    from zoo.training.checks import ConfigError, check_config

    with pytest.raises(ConfigError, match=r"model.init='xavier': expected one of default, "):
        check_config(compose_train(["model.init=xavier"], tmp_path))


def deep_mlp(init: str, activation: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return zoo.create_model(
        "deep_mlp",
        init=init,
        backbone__kind="plain",
        backbone__depth=20,
        backbone__width=128,
        backbone__activation=activation,
    )


@pytest.fixture(scope="module")
def batch():
    digits = DigitsDataModule()
    digits.setup()
    x, y = digits.splits["train"]
    return x[:256], y[:256]


def test_matched_inits_keep_the_signal_and_others_vanish_or_explode_geometrically(batch):
    """Proves (20 layers of 128 units, layer outputs on 256 digits, deterministic): He under
    ReLU keeps every layer's std within 2x (measured 1.91x), Glorot under tanh within 8x
    (5.4x: tanh contracts what lies past its linear range, a slow drift, not a geometric one);
    N(0, 0.01) shrinks the signal to 1e-22 of the first layer's and N(0, 1) under ReLU grows
    it 1e17-fold; Glorot under ReLU loses half the variance at every layer (9e-4 after 19
    layers), the factor He's 2/fan_in restores. Gradients follow the activations."""

    def spread(init: str, activation: str) -> tuple[float, float]:
        act, _ = layer_statistics(deep_mlp(init, activation), *batch)
        hidden = act[:-1]  # the head's logits are not a hidden layer
        return max(hidden) / min(hidden), hidden[-1] / hidden[0]

    assert spread("he", "relu")[0] < 2
    assert spread("glorot", "tanh")[0] < 8
    assert spread("normal_0.01", "relu")[1] < 1e-10
    assert spread("normal_0.01", "tanh")[1] < 1e-10
    assert spread("normal_1", "relu")[1] > 1e10
    assert spread("glorot", "relu")[1] < 0.01
    he_grads = layer_statistics(deep_mlp("he", "relu"), *batch)[1]
    small_grads = layer_statistics(deep_mlp("normal_0.01", "relu"), *batch)[1]
    assert min(he_grads[:-1]) > 1e-4 > 1e-15 > max(small_grads[:-1])


@pytest.mark.slow
def test_he_init_trains_a_deep_relu_mlp_that_a_small_init_leaves_at_chance(tmp_path, seed, figures):
    """Proves: at depth 20 with ReLU, He init learns digits and N(0, 0.01) does not move off
    chance in the same budget (40 epochs, momentum SGD 0.01, cosine). Margins: He > 0.9;
    measured on seeds 0, 1, 2: 0.936, 0.921, 0.941 (std 0.011, worst - 2 std = 0.900: the
    issue's bar, at the edge of the spread); N(0, 0.01) < 0.2: 0.101 on every seed (its
    gradients are ~1e-25: it never moves). Negative control (in the test): N(0, 0.01)."""
    accuracy = {}
    for init in ("he", "normal_0.01"):
        cfg = compose_train(
            ["experiment=init_digits", f"model.init={init}", "logger=none", f"seed={seed}"],
            tmp_path / init,
        )
        accuracy[init] = train(cfg)["test/acc"]
    figures(he=accuracy["he"], small=accuracy["normal_0.01"])
    assert accuracy["he"] > 0.9, accuracy
    assert accuracy["normal_0.01"] < 0.2, accuracy
    assert (tmp_path / "he" / "init.png").read_bytes()[:4] == b"\x89PNG"
