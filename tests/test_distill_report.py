"""The side-by-side report of teacher and students: accuracy, parameters, latency."""

import pytest
import torch

import zoo
from zoo.cli.distill_report import main, measure, table


def test_the_report_scores_each_model_as_its_card_says_and_ranks_size_and_speed(capsys):
    main(["cnn.digits_teacher", "mlp.digits"])
    _, header, _, *rows = capsys.readouterr().out.strip().splitlines()
    assert "compression" in header and "ms / image" in header
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    assert [c[0] for c in cells] == ["cnn.digits_teacher", "mlp.digits"]
    cards = [zoo.model_card(c[0]) for c in cells]
    for (_, accuracy, errors, params, *_), card in zip(cells, cards, strict=True):
        test_images = card["split"]["test"]
        assert float(accuracy) == pytest.approx(card["metrics"]["test/acc"], abs=1e-4)
        assert int(errors) == round(test_images * (1 - card["metrics"]["test/acc"]))
        assert int(params.replace(",", "")) == card["num_params"]
    assert cells[0][4] == "1.0x"  # the teacher is the baseline
    compression = cards[0]["num_params"] / cards[1]["num_params"]
    assert float(cells[1][4].rstrip("x")) == pytest.approx(compression, abs=0.05)


def test_accuracy_on_chosen_classes_counts_only_their_samples():
    net = zoo.create_model("mlp.digits")
    x, y = torch.randn(6, 1, 8, 8), torch.tensor([3, 3, 1, 2, 3, 0])
    row = measure("untrained", net, x, y, classes=[3])
    predicted = net.eval().head.predict(net(x))
    assert row.errors == int((predicted[y == 3] != 3).sum())
    assert row.params == sum(p.numel() for p in net.parameters())
    assert "acc (classes 3)" in table([row], [3])
    with pytest.raises(ValueError, match=r"no test sample of classes \[7\]"):
        measure("untrained", net, x, y, classes=[7])
