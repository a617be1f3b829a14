"""Each multi-input experiment shows its claim on a reduced budget: a Siamese net beats raw
pixels at one-shot recognition of unseen classes, fusing two modalities beats either alone,
and (in the reproduce tier, on its retrained card) a relation network answers relational
questions an MLP cannot.
"""

import pytest
from conftest import compose_train

import zoo
from zoo.cli.publish import best_checkpoint
from zoo.data import SortOfClevrDataModule
from zoo.data.sort_of_clevr import accuracy_by_question_kind
from zoo.training.run import train

LEAN = ["logger=none", "callbacks.model_checkpoint=null", "callbacks.embedding_figure=null"]


# koch_glyphs (BCE on pairs) needs the full 20 epochs to pass raw pixels (its card's numbers,
# reproduced by test_hub); three epochs leave it below them.
@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["siamese_glyphs", "triplet_glyphs"])
def test_siamese_nets_beat_raw_pixels_at_one_shot_recognition_of_unseen_classes(
    tmp_path, experiment, seed, figures
):
    """Proves: a learned embedding recognises unseen glyph classes from one example each far
    better than raw pixels, and separates same from different pairs.
    Margin: 20-way accuracy - raw pixels > 0.2 (was 0.08); measured after 1 epoch on seeds 0,
    1, 2: siamese 0.255, 0.251, 0.242 (std 0.007, worst - 2 std 0.229), triplet 0.260, 0.254,
    0.255 (std 0.003 -> 0.248); after the former 2 epochs (1.5x the time) 0.261-0.274 and
    0.273-0.283 (-> 0.248, 0.262). AUROC > 0.98: >= 0.991 (std <= 0.001 -> 0.989);
    precision@1 > 0.9: >= 0.961 (std <= 0.003 -> 0.954).
    Negative control (in the test): the raw-pixel nearest neighbour on the same episodes,
    0.671; untrained (train=false), the same nets score 0.664 20-way (gap -0.007), AUROC 0.936
    and precision@1 0.843, which the thresholds (raised from 0.95 and 0.6) now reject."""
    overrides = [f"experiment={experiment}", "trainer.max_epochs=1", f"seed={seed}", *LEAN]
    metrics = train(compose_train(overrides, tmp_path))
    figures(
        acc_20way=metrics["test/acc_20way"],
        pixel_acc_20way=metrics["test/pixel_acc_20way"],
        gap=metrics["test/acc_20way"] - metrics["test/pixel_acc_20way"],
        auroc=metrics["test/auroc"],
        precision_at_1=metrics["test/precision_at_1"],
    )
    assert metrics["test/pixel_acc_20way"] < 0.72  # raw-pixel nearest neighbour
    assert metrics["test/acc_20way"] > metrics["test/pixel_acc_20way"] + 0.2, metrics
    assert metrics["test/auroc"] > 0.98 and metrics["test/precision_at_1"] > 0.9


@pytest.mark.slow
def test_fusing_image_and_tone_beats_either_modality_alone(tmp_path, seed, figures):
    """Proves: fusing a half-hidden digit image with its tone beats the image alone.
    Margin: fused - image alone > 0.04; measured on seeds 0, 1, 2: 0.104, 0.132, 0.149 (std
    0.023), worst - 2 std = 0.058. Tone alone < 0.55: measured 0.490-0.498 (best + 2 std 0.507).
    Negative control (in the test): each modality alone (image 0.785-0.824, tone 0.49-0.50)."""
    budget = ("experiment=multimodal_digits", "trainer.max_epochs=12", f"seed={seed}", *LEAN[:2])
    acc = {
        modalities: train(
            compose_train(
                [*budget, f"data.modalities={modalities}"],
                tmp_path / modalities[1:-1].replace(",", "_"),
            )
        )["test/acc"]
        for modalities in ("[image,tone]", "[image]", "[tone]")
    }
    figures(
        both=acc["[image,tone]"],
        image=acc["[image]"],
        tone=acc["[tone]"],
        gap=acc["[image,tone]"] - acc["[image]"],
    )
    assert acc["[tone]"] < 0.55  # a tone names a pair of digits, no more
    assert acc["[image,tone]"] > acc["[image]"] + 0.04, acc


@pytest.mark.reproduce
def test_relation_network_answers_relational_questions_an_mlp_cannot(
    retrained, tmp_path, seed, figures
):
    """Proves, in the reproduce tier: a relation network answers relational Sort-of-CLEVR
    questions (from state descriptions) better than an MLP over the same objects. The relation
    network is its card trained again from its command (`experiment=relation_sort_of_clevr`,
    12 epochs); the MLP (`experiment=mlp_sort_of_clevr`) trains beside it at the same budget.
    Both are scored on relational questions alone. Margin: relation network - MLP > 0.09;
    measured on seeds 0, 1, 2: 0.186, 0.173, 0.179 (std 0.006; relation 0.961-0.970, MLP
    0.776-0.791), worst - 2 std = 0.160 (a 3-epoch budget inside the suite gave 0.114-0.132).
    Both nets answer non-relational questions (1.000 there). Negative control: the MLP,
    without pairwise relations."""
    data = SortOfClevrDataModule(scene="objects", questions="relational")
    card = retrained("relation_network.sort_of_clevr", seed)
    out = tmp_path / "mlp"
    train(compose_train(["experiment=mlp_sort_of_clevr", f"seed={seed}", "logger=none"], out))
    nets = {
        "relation": zoo.load_model(card.model_dir),
        "mlp": zoo.load_checkpoint(best_checkpoint(out)),
    }
    results = {
        name: accuracy_by_question_kind(net, data)["relational"] for name, net in nets.items()
    }
    relation, mlp = results["relation"], results["mlp"]
    figures(relation_rel=relation, mlp_rel=mlp, gap=relation - mlp)
    assert relation > mlp + 0.09, results
