"""Siamese, multi-input and relation patterns: shared weights, distances and losses against
hand-computed values, one-shot episodes, fusion, and clear errors at the door."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.analysis.oneshot import episodes, one_shot_report
from zoo.blocks import FUSIONS, BinaryHead, Fusion, MultiClassHead
from zoo.blocks.merge import MERGES
from zoo.data.batches import ClassBalancedBatches
from zoo.patterns import MultiInput, RelationNetwork, Siamese
from zoo.tasks.metric_losses import pair_masks, pml_loss, verification_loss


def small_siamese(**kwargs) -> Siamese:
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 4))
    return Siamese(encoder, input_shape=(1, 4, 4), **kwargs)


def test_the_two_branches_are_one_set_of_weights_that_both_train():
    net = small_siamese(merge="abs", head=BinaryHead)
    assert sum(p.numel() for p in net.parameters()) == 16 * 8 + 8 + 8 * 4 + 4 + 4 + 1
    a, b = torch.randn(5, 1, 4, 4), torch.randn(5, 1, 4, 4)

    def encoder_grad(left_detached: bool, right_detached: bool) -> torch.Tensor:
        net.zero_grad()
        ea, eb = net.embed(a), net.embed(b)
        ea = ea.detach() if left_detached else ea
        eb = eb.detach() if right_detached else eb
        net.compare(ea, eb).sum().backward()
        return net.encoder[1].weight.grad.clone()

    from_a, from_b = encoder_grad(False, True), encoder_grad(True, False)
    assert from_a.abs().sum() > 0 and from_b.abs().sum() > 0
    net.zero_grad()
    net(a, b).sum().backward()
    torch.testing.assert_close(net.encoder[1].weight.grad, from_a + from_b)


def test_one_two_and_three_inputs_give_embeddings_a_score_and_two_scores():
    net = small_siamese()
    a, b, c = (torch.randn(3, 1, 4, 4) for _ in range(3))
    assert net(a).shape == (3, 4)
    torch.testing.assert_close(net(a, b), -(net(a) - net(b)).norm(dim=1))
    close, far = net(a, a, c)
    assert torch.all(close > far)  # an input is nearer to itself than to anything else


def test_merges_against_hand_computed_values():
    a, b = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 4.0]])
    torch.testing.assert_close(MERGES["abs"](a, b), torch.tensor([[3.0, 4.0]]))
    torch.testing.assert_close(MERGES["squared"](a, b), torch.tensor([[9.0, 16.0]]))
    torch.testing.assert_close(MERGES["concat"](a, b), torch.tensor([[3.0, 0.0, 0.0, 4.0]]))
    torch.testing.assert_close(MERGES["euclidean"](a, b), torch.tensor([5.0]))
    torch.testing.assert_close(MERGES["cosine"](a, b), torch.tensor([0.0]))
    torch.testing.assert_close(MERGES["cosine"](a, 2 * a), torch.tensor([1.0]))


def test_siamese_rejects_bad_inputs_and_headless_feature_merges():
    with pytest.raises(ValueError, match="needs a head"):
        small_siamese(merge="abs")
    with pytest.raises(ValueError, match="merge='manhattan'"):
        small_siamese(merge="manhattan")
    net = small_siamese()
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 1, 4, 4\)"):
        net(torch.randn(2, 1, 5, 5))
    with pytest.raises(ValueError, match="1, 2 or 3 inputs of the same batch size"):
        net(torch.randn(2, 1, 4, 4), torch.randn(3, 1, 4, 4))


# A batch of four embeddings on a line: classes 0, 0, 1, 1 at positions 0, 1, 1.5, 4.
LINE = torch.tensor([[0.0], [1.0], [1.5], [4.0]])
CLASSES = torch.tensor([0, 0, 1, 1])


def test_contrastive_loss_is_hadsells_pull_and_push_averaged_over_active_pairs():
    # positives: d(0,1)=1, d(2,3)=2.5 -> mean 1.75; negatives within margin 2: d(1,2)=0.5,
    # d(0,2)=1.5 -> [2-0.5]+ and [2-1.5]+ -> mean 1.0 (d(0,3), d(1,3) >= 2 contribute zero)
    loss = pml_loss("contrastive", margin=2.0, miner=None)(LINE, CLASSES)
    assert loss.item() == pytest.approx(1.75 + 1.0)


def test_batch_hard_triplet_loss_uses_each_anchors_hardest_positive_and_negative():
    # anchor: hardest positive distance, hardest (nearest) negative distance
    # 0: 1, 1.5 -> [1-1.5+1]+=0.5; 1: 1, 0.5 -> 1.5; 2: 2.5, 0.5 -> 3; 3: 2.5, 3 -> 0.5
    loss = pml_loss("triplet", margin=1.0, miner="batch_hard")(LINE, CLASSES)
    assert loss.item() == pytest.approx((0.5 + 1.5 + 3.0 + 0.5) / 4)


def test_semihard_miner_keeps_only_negatives_beyond_the_positive_within_the_margin():
    loss_fn = pml_loss("triplet", margin=1.0, miner="semihard")
    # anchor 0 (positive at 1): negatives at 1.5 (semi-hard: 1 < 1.5 < 2) and 4 (easy)
    embeddings = torch.tensor([[0.0], [1.0], [1.5], [4.0]])
    labels = torch.tensor([0, 0, 1, 2])
    expected = [1 - 1.5 + 1]  # (0, 1, 2) only; other anchors have no semi-hard negatives
    # anchor 1 (positive at 0, d=1): negatives at 0.5 (hard) and 3 (easy) -> none
    assert loss_fn(embeddings, labels).item() == pytest.approx(sum(expected) / len(expected))


def test_pair_masks_hold_each_distinct_pair_once():
    positive, negative = pair_masks(torch.tensor([0, 0, 1]))
    assert torch.nonzero(positive).tolist() == [[0, 1]]
    assert torch.nonzero(negative).tolist() == [[0, 2], [1, 2]]


def test_verification_loss_is_class_balanced_bce_over_all_pairs():
    torch.manual_seed(0)
    net = small_siamese(merge="abs", head=BinaryHead)
    embeddings, labels = torch.randn(4, 4), torch.tensor([0, 0, 1, 2])
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    logits = torch.stack(
        [net.compare(embeddings[i : i + 1], embeddings[j : j + 1])[0] for i, j in pairs]
    )
    same = torch.tensor([float(labels[i] == labels[j]) for i, j in pairs])
    # one positive pair among six: it weighs as much as the five negatives together
    weights = torch.where(same == 1, 5.0, 1.0)
    expected = (weights * F.binary_cross_entropy_with_logits(logits, same, reduction="none")).mean()
    torch.testing.assert_close(verification_loss(net, embeddings, labels), expected)


def test_episodes_show_n_distinct_classes_and_another_sample_of_the_querys():
    labels = torch.arange(30).repeat_interleave(3)
    queries, supports, answers = episodes(labels, 5, 200, torch.Generator().manual_seed(0))
    assert supports.shape == (200, 5)
    assert all(len(set(labels[row].tolist())) == 5 for row in supports)
    rows = torch.arange(200)
    assert torch.equal(labels[supports[rows, answers]], labels[queries])
    assert not torch.any(supports[rows, answers] == queries)
    assert len(answers.unique()) == 5  # the right column moves, so ties cannot score


def test_one_shot_report_scores_perfect_and_random_embeddings():
    labels = torch.arange(40).repeat_interleave(4)
    net = Siamese(nn.Identity(), input_shape=(40,))
    perfect = F.one_hot(labels, 40).float() + 0.01 * torch.randn(160, 40)
    report = one_shot_report(net, perfect, labels, ways=(5, 20), count=500)
    assert report == pytest.approx(
        {"acc_5way": 1.0, "acc_20way": 1.0, "auroc": 1.0, "precision_at_1": 1.0}
    )
    noise = one_shot_report(net, torch.randn(160, 40), labels, ways=(5, 20), count=2000)
    assert noise["acc_5way"] == pytest.approx(0.2, abs=0.04)
    assert noise["acc_20way"] == pytest.approx(0.05, abs=0.02)
    assert noise["auroc"] == pytest.approx(0.5, abs=0.05)


def test_class_balanced_batches_hold_groups_of_each_class():
    labels = torch.arange(10).repeat_interleave(7)
    x = torch.arange(70.0)
    batches = ClassBalancedBatches(x, labels, classes_per_batch=3, samples_per_class=2, seed=0)
    seen = []
    for xb, yb in batches:
        assert len(yb) == 6
        assert torch.equal(yb.view(3, 2)[:, 0], yb.view(3, 2)[:, 1])  # pairs of one class
        assert torch.equal(labels[xb.long()], yb)
        seen += xb.tolist()
    assert len(batches) == 10 * 3 // 3 and len(set(seen)) == len(seen) == 60
    with pytest.raises(ValueError, match="cannot fill a batch"):
        ClassBalancedBatches(x, labels, classes_per_batch=40, samples_per_class=2)


@pytest.mark.parametrize("kind", FUSIONS)
def test_every_fusion_uses_every_modality(kind):
    torch.manual_seed(0)
    fusion = Fusion(kind, widths=(6, 3), dim=8)
    a, b = torch.randn(5, 6, requires_grad=True), torch.randn(5, 3, requires_grad=True)
    out = fusion(a, b)
    assert out.shape == (5, fusion.out_features)
    out.square().sum().backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"expected widths \[6, 3\], got \[6, 4\]"):
        fusion(a, torch.randn(5, 4))


def test_multi_input_picks_modalities_and_checks_each_input():
    encoders = {"image": nn.Flatten(), "tone": nn.Flatten()}
    shapes = {"image": [1, 4, 4], "tone": [1, 10]}
    both = MultiInput(encoders, shapes, head=lambda w: MultiClassHead(w, 3), fusion="gated")
    assert both(torch.randn(2, 1, 4, 4), torch.randn(2, 1, 10)).shape == (2, 3)
    tone = MultiInput(encoders, shapes, head=lambda w: MultiClassHead(w, 3), modalities=["tone"])
    assert tone.input_shape == ((1, 10),) and list(tone.encoders) == ["tone"]
    with pytest.raises(ValueError, match=r"input 'tone' expected input of shape \(N, 1, 10\)"):
        both(torch.randn(2, 1, 4, 4), torch.randn(2, 1, 9))
    with pytest.raises(ValueError, match="takes 2 inputs"):
        both(torch.randn(2, 1, 4, 4))
    with pytest.raises(ValueError, match=r"modalities=\['audio'\]"):
        MultiInput(encoders, shapes, head=lambda w: MultiClassHead(w, 3), modalities=["audio"])


def test_relation_network_ignores_object_order_and_checks_shapes():
    torch.manual_seed(0)
    net = RelationNetwork(
        [[6, 9], [12]], head=lambda w: MultiClassHead(w, 10), g_hidden=[16], f_hidden=[16]
    )
    objects, question = torch.randn(3, 6, 9), torch.randn(3, 12)
    shuffled = objects[:, torch.randperm(6)]
    torch.testing.assert_close(
        net(objects, question), net(shuffled, question), rtol=1e-5, atol=1e-5
    )
    with pytest.raises(ValueError, match=r"objects expected input of shape \(N, 6, 9\)"):
        net(torch.randn(3, 5, 9), question)


def test_glyph_classes_are_disjoint_and_samples_vary():
    from zoo.data import GlyphsDataModule

    data = GlyphsDataModule(
        classes={"train": 20, "val": 5, "test": 5},
        samples_per_class=4,
        batch_size=8,
        classes_per_batch=4,
    )
    splits = data.load()
    x, y = splits["train"]
    assert x.shape == (80, 1, 20, 20) and y.max() == 19
    raw = data.load_unit()
    train_raw, test_raw = raw["train"][0].flatten(1), raw["test"][0].flatten(1)
    assert train_raw.min() >= 0 and train_raw.max() <= 1
    assert (train_raw[0] - train_raw[1]).abs().max() > 0.3  # two samples of a class differ
    # no test image repeats a training image: the classes are new
    assert torch.cdist(test_raw, train_raw).min() > 0.5
    with pytest.raises(ValueError, match=r"multiple of data\.classes_per_batch"):
        GlyphsDataModule(batch_size=100, classes_per_batch=32)


def test_digit_tones_hide_half_of_each_image_and_tone_the_digits_pair():
    from zoo.data import DigitTonesDataModule

    data = DigitTonesDataModule(copies=1, noise=0.0)
    image, tone, digit = data.load()["train"]
    assert data.input_shape == ((1, 8, 8), (1, 32))
    hidden = image.flatten(1).eq(0).sum(1)
    assert hidden.min() >= 32  # at least the hidden half is blank
    spectrum = torch.fft.rfft(tone[:, 0]).abs()
    assert torch.equal(spectrum[:, 1:].argmax(1), digit // 2)  # pitch = pair + 1 cycles
    (only_tone,) = DigitTonesDataModule(modalities=["tone"]).input_shape
    assert only_tone == (1, 32)
    with pytest.raises(ValueError, match=r"data.modalities=\['smell'\]"):
        DigitTonesDataModule(modalities=["smell"])


def test_sort_of_clevr_objects_describe_the_scenes_the_questions_are_about():
    from zoo.data import SortOfClevrDataModule

    sizes = {"train": 50, "val": 5, "test": 5}
    objects, questions, answers = SortOfClevrDataModule(scenes=sizes, scene="objects").load()[
        "train"
    ]
    _, image_questions, image_answers = SortOfClevrDataModule(scenes=sizes).load()["train"]
    assert objects.shape == (500, 6, 9)
    assert torch.equal(questions, image_questions) and torch.equal(answers, image_answers)
    torch.testing.assert_close(objects[..., :6], torch.eye(6).expand(500, 6, 6))  # by colour
    assert objects[..., 6:8].abs().max() <= 3
    shuffled = SortOfClevrDataModule(scenes=sizes, scene="objects", object_order="shuffled")
    mixed, _, mixed_answers = shuffled.load()["train"]
    assert (
        torch.equal(mixed_answers, answers) and (mixed[..., :6].argmax(2) != torch.arange(6)).any()
    )
    # "what shape is the <colour> object?" is answered by that object's shape feature
    for scene in (objects, mixed):
        row = torch.nonzero(questions[:, 6:].argmax(1) == 0)[:, 0]
        asked = (scene[row, :, :6] * questions[row, None, :6]).sum(2).argmax(1)
        assert torch.equal(scene[row, asked, 8].long(), answers[row])
    with pytest.raises(ValueError, match=r"data\.object_order='random'"):
        SortOfClevrDataModule(scene="objects", object_order="random")
