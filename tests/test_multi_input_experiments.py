"""Each multi-input experiment shows its claim on a reduced budget: a Siamese net beats raw
pixels at one-shot recognition of unseen classes, fusing two modalities beats either alone,
and a relation network answers relational questions an MLP cannot.

Full-budget numbers (README table) come from the experiments' documented commands.
"""

import pytest
from conftest import compose_train

import zoo
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


@pytest.mark.slow
def test_relation_network_answers_relational_questions_an_mlp_cannot(tmp_path, seed, figures):
    """Proves: a relation network answers relational Sort-of-CLEVR questions (from state
    descriptions) better than an MLP over the same objects. Setting: only relational
    questions, 3 epochs. Margin: relational accuracy, relation network - MLP > 0.09; measured
    on seeds 0, 1, 2: 0.114, 0.132, 0.116 (std 0.0095; relation 0.823-0.835, MLP 0.703-0.708),
    worst - 2 std = 0.096. At 4 epochs (a third more time, taken back for the suite's
    budget): 0.182, 0.211, 0.162 under a margin of 0.1. Before (both kinds of question, 6
    epochs): gaps 0.137, 0.040, 0.182 (std 0.073) once the data order became a function of
    the epoch; the former absolute level (relational > 0.9) failed on another machine at
    0.874. Both nets answer non-relational questions (1.000 there); this test no longer asks
    them. Negative control (in the test): the MLP, without pairwise relations."""
    # test=false: the accuracy by question kind below reads the test split itself
    budget = ("data.questions=relational", "trainer.max_epochs=3", "logger=none", "test=false")
    budget = (*budget, f"seed={seed}")
    data = SortOfClevrDataModule(scene="objects", questions="relational")
    results = {}
    for model in ("relation", "mlp"):
        out = tmp_path / model
        train(compose_train([f"experiment={model}_sort_of_clevr", *budget], out))
        net = zoo.load_checkpoint(out / "checkpoints" / "last.ckpt")
        results[model] = accuracy_by_question_kind(net, data)["relational"]
    relation, mlp = results["relation"], results["mlp"]
    figures(relation_rel=relation, mlp_rel=mlp, gap=relation - mlp)
    assert relation > mlp + 0.09, results
