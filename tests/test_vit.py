"""The vision transformer: patches as tokens, positions that tell them apart, the class token's
attention rollout, on digits what positions are worth, and what 4x the images do to its gap to
the CNN."""

from pathlib import Path

import pytest
import torch

import zoo
from zoo.data import DigitsDataModule, RotatedDigitsDataModule
from zoo.patterns import PatchEmbedding, ViTEncoder
from zoo.utils.preprocessing import normalize


def test_patches_become_tokens_and_the_summary_has_the_width_of_one():
    x = torch.randn(3, 1, 8, 8)
    assert PatchEmbedding(1, 2, 16)(x).shape == (3, 16, 16)
    for pool in ("cls", "attention"):
        assert ViTEncoder((1, 8, 8), embed_dim=32, depth=2, pool=pool)(x).shape == (3, 32)
    net = zoo.create_model("vit")
    assert net(x).shape == (3, 10)
    with pytest.raises(ValueError, match=r"patch_size=3 must divide the image's height"):
        ViTEncoder((1, 8, 8), patch_size=3)
    with pytest.raises(ValueError, match=r"positions='2d': expected one of"):
        ViTEncoder((1, 8, 8), positions="2d")


def test_a_signal_is_cut_into_segments_of_patch_size_steps():
    x = torch.randn(3, 2, 40)
    assert PatchEmbedding(2, 4, 16, dims=1)(x).shape == (3, 10, 16)
    vit = ViTEncoder((2, 40), patch_size=4, embed_dim=32, depth=2).eval()
    assert vit(x).shape == (3, 32) and vit.grid == (10,)
    rollout = vit.attention_rollout(x)  # one weight per segment
    assert rollout.shape == (3, 10)
    torch.testing.assert_close(rollout.sum(1), torch.ones(3))
    net = zoo.create_model("vit", input_shape=(1, 40), patch_size=5)
    assert net(torch.randn(2, 1, 40)).shape == (2, 10)
    with pytest.raises(ValueError, match=r"patch_size=3 must divide the signal's length"):
        ViTEncoder((1, 40), patch_size=3)
    with pytest.raises(ValueError, match=r"expected signals \(N, 2, L\) with L multiples of 4"):
        PatchEmbedding(2, 4, 16, dims=1)(torch.randn(3, 2, 8, 8))


def test_without_positions_the_patches_are_a_bag():
    """Shuffling the patches changes nothing without position embeddings, and everything
    with them: where a stroke is can only come from the positions."""
    torch.manual_seed(0)
    x = torch.randn(2, 1, 8, 8)
    # swap the top-left and bottom-right 2x2 patches
    shuffled = x.clone()
    shuffled[..., :2, :2], shuffled[..., 6:, 6:] = x[..., 6:, 6:], x[..., :2, :2]
    for positions, same in (("none", True), ("learned", False), ("sinusoidal", False)):
        vit = ViTEncoder((1, 8, 8), embed_dim=32, depth=2, positions=positions).eval()
        if positions == "learned":
            torch.nn.init.normal_(vit.positions, std=1.0)
        assert torch.allclose(vit(x), vit(shuffled), atol=1e-5) == same, positions


def test_rotated_digits_with_one_target_are_a_plain_classification_of_4x_the_images():
    from zoo.data import DigitsDataModule, RotatedDigitsDataModule

    rotated = RotatedDigitsDataModule(targets=["digit"], copies=4)
    images, y = rotated.load()["train"]
    assert rotated.spec()["problem"] == "multiclass" and rotated.spec()["num_outputs"] == 10
    assert y.dtype == torch.long and set(y.tolist()) == set(range(10))
    assert len(images) == len(y) == 4 * len(DigitsDataModule().load()["train"][1])
    assert RotatedDigitsDataModule().spec()["problem"] == "multitask"
    with pytest.raises(ValueError, match=r"data.missing must be 0 with the single target digit"):
        RotatedDigitsDataModule(targets=["digit"], missing=0.2)


def test_attention_rollout_is_a_distribution_over_the_patches():
    for pool in ("cls", "attention"):
        vit = ViTEncoder((1, 8, 8), embed_dim=32, depth=3, pool=pool).eval()
        rollout = vit.attention_rollout(torch.randn(4, 1, 8, 8))
        assert rollout.shape == (4, 4, 4) and (rollout >= 0).all()
        torch.testing.assert_close(rollout.sum((1, 2)), torch.ones(4))


@pytest.mark.reproduce
def test_a_vit_trained_from_its_cards_command_reads_digits(retrained, seed, figures):
    """Proves, in the reproduce tier: the zoo's ViT reaches >= 0.85 test accuracy on digits
    (719 training images): `experiment=vit_digits` (150 epochs), trained again from the
    command on `vit.digits`'s card, on the 899 test digits, preprocessed from its own record
    (the shipped weights 0.930). Trained for 100 epochs on seeds 0, 1, 2 it reached 0.913,
    0.932, 0.910."""
    images, labels = DigitsDataModule().load_unit()["test"]
    net = zoo.load_model(retrained("vit.digits", seed).model_dir).eval()
    with torch.no_grad():
        accuracy = (net(normalize(images, net.pretrained_cfg)).argmax(-1) == labels).float()
    figures(acc=accuracy.mean())
    assert accuracy.mean() >= 0.85, accuracy.mean()


@pytest.mark.reproduce
def test_a_vit_learns_digits_and_loses_most_of_it_without_positions(
    retrained, tmp_path, seed, figures
):
    """Proves, in the reproduce tier: the ViT learns digits from scratch, and without position
    embeddings, its patches a bag, the same budget leaves it >= 0.2 behind. With positions: the
    card `vit.digits` trained again from its command (150 epochs); without: the same command
    with `model.backbone.positions=none`, trained beside it. Margins: with positions >= 0.7,
    measured on seeds 0, 1, 2: 0.931, 0.950, 0.926 (std 0.013) -> 0.900; the gap >= 0.2:
    0.323, 0.323, 0.327, without positions 0.598-0.627 (50 epochs inside the suite gave gaps
    of 0.267-0.306)."""
    from conftest import compose_train

    from zoo.training.run import train

    card = retrained("vit.digits", seed)
    run = ["experiment=vit_digits", "model.backbone.positions=none", f"seed={seed}", "logger=none"]
    accuracy = {
        "learned": card.metrics["test/acc"],
        "none": train(compose_train(run, tmp_path / "none"))["test/acc"],
    }
    figures(learned=accuracy["learned"], none=accuracy["none"])
    assert accuracy["learned"] >= 0.7, accuracy
    assert accuracy["learned"] - accuracy["none"] >= 0.2, accuracy
    rollout = Path(card.model_dir).parents[1] / "run" / "rollout.png"
    assert rollout.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.reproduce
def test_the_vits_gap_to_the_cnn_narrows_with_4x_the_images(retrained, seed, figures):
    """Proves, in the reproduce tier: more data narrows the ViT's gap to a CNN of the same
    parameter budget. The four cards of `experiment=vit_rotated_digits` and
    `experiment=cnn_rotated_digits`, at 718 training images (`*_rotated_digits_1x`) and 4x as
    many rotated (2872), trained again from their cards' commands, all scored on the same 3596
    rotated test digits. Margin: the gap falls by >= 0.05 (the shipped weights 0.141 -> 0.048;
    trained on seeds 0, 1, 2 and scored on their own test splits: 0.150 -> 0.048, 0.134 ->
    0.045, 0.164 -> 0.052)."""
    images, labels = RotatedDigitsDataModule(targets=["digit"]).load_unit()["test"]
    accuracy = {}
    for name in ("vit.rotated_digits", "cnn.rotated_digits"):
        for copies, weights in ((1, f"{name}_1x"), (4, name)):
            model_dir = retrained(weights, seed).model_dir
            assert zoo.registry.read_card(model_dir)["split"]["train"] == 718 * copies
            net = zoo.load_model(model_dir).eval()
            with torch.no_grad():
                predicted = net(normalize(images, net.pretrained_cfg)).argmax(-1)
            accuracy[weights] = (predicted == labels).float().mean().item()
    gap_1x = accuracy["cnn.rotated_digits_1x"] - accuracy["vit.rotated_digits_1x"]
    gap_4x = accuracy["cnn.rotated_digits"] - accuracy["vit.rotated_digits"]
    figures(gap_1x=gap_1x, gap_4x=gap_4x, **accuracy)
    assert gap_1x - gap_4x >= 0.05, accuracy
