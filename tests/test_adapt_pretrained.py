"""Pretrained weights on a new input shape or class count, as timm's `create_model(name,
pretrained=True, in_chans=, num_classes=)`: what still fits keeps its weights, the first
convolution takes the new channels (timm's `adapt_input_conv`), the rest starts afresh and one
warning line names it. Every image preset with shipped weights is covered."""

import functools
import re
import warnings

import pytest
import torch

import zoo
from zoo.blocks.heads import Head
from zoo.patterns.interface import HasHead
from zoo.registry import model_config
from zoo.registry.adapt import adapt_input_conv, first_conv

SHIPPED = zoo.list_pretrained()


def input_shape(name):
    return zoo.get_pretrained_cfg(name)["input_shape"]


IMAGES = [  # weights whose input is one image (C, H, W)
    n for n in SHIPPED if len(input_shape(n)) == 3 and isinstance(input_shape(n)[0], int)
]
CHANGES = {
    "size": lambda c, h, w: [c, 2 * h, 2 * w],
    "channels": lambda c, h, w: [3, h, w],
    "both": lambda c, h, w: [3, 2 * h, 2 * w],
}


def load(name, **kwargs):
    """The model and the messages of the warnings its loading raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = zoo.create_model(name, pretrained=True, **kwargs)
    return model, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def named(message, label):
    """The keys a warning line lists after `label` (`re-initialised (not loaded)`)."""
    found = re.search(re.escape(label) + r": (\[[^\]]*\])", message)
    return set(eval(found.group(1))) if found else set()


@functools.cache
def pretrained(name):
    """The weights as shipped, loaded once per worker (tests read it, never change it)."""
    return zoo.create_model(name, pretrained=True)


def run(model, x):
    """The model on images x (a GAN's discriminator reads them); the first output of several."""
    out = model.discriminate(x) if hasattr(model, "discriminate") else model(x)
    if isinstance(out, dict):  # one output per task
        out = next(iter(out.values()))
    return out[0] if isinstance(out, tuple) else out


def test_the_image_weights_are_found():
    assert {"cnn.digits", "vit.digits", "unet.shapes", "mlp.digits"} <= set(IMAGES)
    assert "film_vqa.sort_of_clevr" not in IMAGES and "seq2seq.sort" not in IMAGES


def test_the_issues_example_loads():
    net, said = load("cnn.digits", input_shape=(1, 16, 16), strict=False)
    assert net(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
    assert said == ["re-initialised (not loaded): ['backbone.1.layers.0.weight']"]
    assert net.zoo_config["backbone"]["_args_"][1]["in_features"] is None  # a dry run's again
    assert net.pretrained_cfg["input_shape"] == [1, 16, 16]


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("name", IMAGES)
def test_weights_load_onto_a_new_input_shape(name, change):
    """Layers that still fit keep their weights (equal tensors), the first conv is adapted to
    the channels, the rest is re-initialised and named in one warning line; strict fails."""
    shape = CHANGES[change](*input_shape(name))
    if name.startswith("pixelcnn.") and shape[0] != 1:
        with pytest.raises(ValueError, match=r"PixelCNN models one-channel images"):
            zoo.create_model(name, pretrained=True, input_shape=shape, strict=False)
        return
    reference = pretrained(name).state_dict()
    net, said = load(name, input_shape=shape, strict=False)
    assert net.pretrained_cfg["input_shape"] == shape
    assert run(net, torch.rand(2, *shape)).shape[0] == 2
    own = net.state_dict()
    kept = {k for k in own if k in reference and own[k].shape == reference[k].shape}
    assert all(torch.equal(own[k], reference[k]) for k in kept)
    changed = set(own) - kept
    if changed:
        assert len(said) == 1 and "\n" not in said[0]
        reinitialised = named(said[0], "re-initialised (not loaded)")
        conv = first_conv(net)
        if conv in changed and conv not in reinitialised:  # adapted, said so
            assert f"adapted {conv} from {input_shape(name)[0]} to 3 input channels" in said[0]
            assert torch.equal(own[conv], adapt_input_conv(3, reference[conv]))
            reinitialised.add(conv)
        assert reinitialised == changed
        with pytest.raises(RuntimeError, match=r"weights do not fit.*Pass strict=False"):
            zoo.create_model(name, pretrained=True, input_shape=shape)
    else:  # fully convolutional (U-Net, PixelCNN): every weight fits any size
        assert said == [] and change == "size"


def class_count_weights():
    """Image weights whose class count a keyword argument sets (a binary head, an embedding or
    an image model has none)."""
    found = []
    for name in IMAGES:
        try:
            if model_config(name, num_classes=3) != model_config(name):
                found.append(name)
        except TypeError:  # `num_classes` matches no key of the config
            pass
    return found


CLASS_COUNTS = class_count_weights()


def test_the_weights_with_a_class_count_are_found():
    assert {"cnn.digits", "cnn.digit_mosaics", "mlp.digits", "vit.digits", "unet.shapes"} <= set(
        CLASS_COUNTS
    )
    assert not {"cnn.digits_parity", "vae.digits", "siamese_cnn.glyphs_koch"} & set(CLASS_COUNTS)


@pytest.mark.parametrize("name", [n for n in CLASS_COUNTS if n in IMAGES])
def test_a_new_class_count_keeps_the_trunk_and_reinitialises_the_head(name):
    reference = pretrained(name)
    net, said = load(name, num_classes=3, strict=False)
    own, old = net.state_dict(), reference.state_dict()
    changed = {k for k in own if own[k].shape != old[k].shape}
    assert changed and len(said) == 1
    assert named(said[0], "re-initialised (not loaded)") == changed
    assert all(torch.equal(own[k], old[k]) for k in own if k not in changed)
    if isinstance(net, HasHead):
        assert isinstance(net.head, Head) and net.head.num_outputs == 3
        assert all(k.startswith("head.") for k in changed)
        x = torch.randn(2, *input_shape(name))
        assert torch.equal(net.forward_features(x), reference.forward_features(x))
    assert net.pretrained_cfg["class_names"] is None  # the old names name other classes
    with pytest.raises(RuntimeError, match=r"Pass strict=False"):
        zoo.create_model(name, pretrained=True, num_classes=3)


def timms_rule(in_channels, weight):
    """timm's rule for RGB weights, stated per channel: one channel is the sum of the three;
    otherwise channel c takes RGB channel c mod 3, scaled by 3/C."""
    if in_channels == 1:
        return weight[:, :1] + weight[:, 1:2] + weight[:, 2:3]
    picked = torch.stack([weight[:, c % 3] for c in range(in_channels)], dim=1)
    return picked * 3 / in_channels


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 8])
def test_adapt_input_conv_follows_timms_rule(channels):
    rgb = torch.randn(6, 3, 3, 3)
    assert torch.allclose(adapt_input_conv(channels, rgb), timms_rule(channels, rgb))
    grey = torch.randn(6, 1, 5, 5)  # timm assumes 3; any count here: repeat and scale by 1/C
    assert torch.allclose(
        adapt_input_conv(channels, grey), grey.repeat(1, channels, 1, 1) / channels
    )
    half = adapt_input_conv(channels, rgb.half())
    assert half.dtype == torch.float16


@pytest.mark.parametrize("channels", [1, 2, 3, 6])
def test_adapted_weights_give_equal_channels_the_original_output(channels):
    """An image whose C channels are equal gives the output the original weights gave on
    their own channels, equal too: going to one channel, or when I divides C."""
    weight, x = torch.randn(4, 3, 3, 3), torch.randn(2, 1, 7, 7)
    original = torch.nn.functional.conv2d(x.expand(-1, 3, -1, -1), weight)
    adapted = torch.nn.functional.conv2d(
        x.expand(-1, channels, -1, -1), adapt_input_conv(channels, weight)
    )
    assert torch.allclose(adapted, original, atol=1e-5) == (channels == 1 or channels % 3 == 0)


CONV_FIRST = [
    n for n in IMAGES if first_conv(zoo.create_model(n)) and not n.startswith("pixelcnn.")
]


@pytest.mark.parametrize("name", CONV_FIRST)
def test_grey_weights_take_rgb_and_answer_a_grey_image_as_before(name):
    """1 -> 3 channels: the first conv's weight repeated and scaled by 1/3 (`adapt_input_conv`),
    nothing else re-initialised, so a grey image repeated three times gives the original's
    logits."""
    grey, _ = load(name)
    rgb, said = load(name, in_channels=3, strict=False)
    conv = first_conv(rgb)
    old = grey.state_dict()[conv]
    assert old.shape[1] == 1
    assert torch.equal(rgb.state_dict()[conv], adapt_input_conv(3, old))
    assert torch.allclose(rgb.state_dict()[conv], old.repeat(1, 3, 1, 1) / 3)
    assert said == [f"adapted {conv} from 1 to 3 input channels (timm's rule)"]
    x = torch.randn(4, *input_shape(name))
    assert torch.allclose(run(rgb, x.repeat(1, 3, 1, 1)), run(grey, x), atol=1e-5)


def test_model_config_of_weights_works_the_data_derived_widths_out_again():
    config = model_config("vit.digits", input_shape=[3, 16, 16], num_classes=4)
    assert config["input_shape"] == config["backbone"]["input_shape"] == [3, 16, 16]
    assert config["head"]["num_classes"] == 4
    assert config["backbone"]["embed_dim"] == 64  # the weights' own widths stay
    mosaics = model_config("cnn.digit_mosaics", in_channels=3, num_classes=4)
    assert mosaics["head"]["num_labels"] == 4 and mosaics["input_shape"] == [3, 16, 16]
    assert mosaics["backbone"]["_args_"][0]["in_channels"] == 3


def test_memory_reader_answers_timms_interface(tmp_path):
    net = zoo.create_model("memory_reader.retrieval", pretrained=True)
    items, query = (torch.randn(2, *s) for s in net.pretrained_cfg["input_shape"])
    features = net.forward_features(items, query)
    assert features.shape == (2, net.num_features) and net.num_features == 64
    assert net.get_classifier() is net.head
    assert torch.equal(net(items, query), net.head(features))
    logits, weights = net(items, query, need_weights=True)
    assert torch.equal(logits, net(items, query)) and weights.shape == (2, 1, items.shape[1])
    bare = zoo.create_model("memory_reader.retrieval", pretrained=True, num_classes=0)
    assert torch.equal(bare(items, query), features)
    net.reset_classifier(5)
    assert net(items, query).shape == (2, 5) and torch.equal(
        net.forward_features(items, query), features
    )
    again = zoo.from_pretrained(zoo.save_pretrained(net, tmp_path / "five"))
    assert torch.equal(again(items, query), net(items, query))


def test_a_deep_mlp_is_a_backbone_and_its_preset_answers_timms_interface():
    """DeepMLP has no head (it gives features), so the interface is its Classifier's."""
    net = zoo.create_model("deep_mlp", depth=3).eval()
    assert not isinstance(net.backbone, HasHead)
    x = torch.randn(2, 1, 8, 8)
    features = net.forward_features(x)
    assert features.shape == (2, net.num_features) and net.num_features == net.backbone.out_features
    assert torch.equal(net(x), net.get_classifier()(features))
    net.reset_classifier(0)
    assert torch.equal(net(x), features)
