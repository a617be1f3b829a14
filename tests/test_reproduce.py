"""The reproduce tier (`pytest -m reproduce`, or `zoo-reproduce`: the same code): every shipped
card trained again from the command on its card, on the CPU, and each metric on the card
compared with the retrained weights' within the card's tolerance (twice its measured seed
spread). The table lands in `reproduce.md`; the quick tests below check the tier's own logic."""

import json
import os

import pytest
import torch
from conftest import ROOT

import zoo
from zoo.cli import reproduce
from zoo.cli.reproduce import SPREAD_KEY, Comparison, Retrained, card_overrides, compare, table
from zoo.registry.lineage import depends_on, stale_dependencies

CARDS = zoo.list_pretrained()


@pytest.mark.reproduce
@pytest.mark.parametrize("name", CARDS)
def test_a_card_reproduces_from_its_command(name, seed, retrained, figures, request):
    """Retrains `name` from its card's command and, on seed 0, compares every metric on the
    card within its tolerance (other seeds, `--seeds 0,1,2`, measure the spread)."""
    run = retrained(name, seed)
    figures(**run.metrics)
    if seed != 0 or request.config.getoption("--record-spread"):
        return
    off = [row for row in compare(zoo.model_card(name), run) if not row.within]
    assert not off, "\n" + table(off)


def test_every_card_has_its_seed_spread_and_a_train_py_command():
    for name in CARDS:
        card = zoo.model_card(name)
        assert card_overrides(card)[0].startswith("experiment="), card["command"]
        spread = card.get(SPREAD_KEY)
        assert spread and spread["seeds"] == [0, 1, 2], name
        assert set(spread["metrics"]) >= set(card["metrics"]), name


def fake_card(std: float | None) -> dict:
    card = {"name": "mlp.digits", "metrics": {"test/acc": 0.95}, "command": "python train.py"}
    if std is not None:
        card[SPREAD_KEY] = {"metrics": {"test/acc": {"values": [0.95, 0.94, 0.96], "std": std}}}
    return card


def retrained_with(acc: float) -> Retrained:
    return Retrained("mlp.digits", 0, {"test/acc": acc}, 1.0, 0.5)


def test_a_metric_reproduces_within_twice_its_seed_spread_either_way():
    card = fake_card(std=0.01)
    assert compare(card, retrained_with(0.969))[0].within
    assert compare(card, retrained_with(0.931))[0].within
    assert not compare(card, retrained_with(0.971))[0].within
    assert not compare(card, retrained_with(0.929))[0].within


def test_a_card_without_a_spread_or_a_metric_does_not_reproduce():
    (row,) = compare(fake_card(std=None), retrained_with(0.95))
    assert not row.within and row.reason == "no seed spread"
    (row,) = compare(fake_card(std=0.01), Retrained("mlp.digits", 0, {}, 1.0, 0.5))
    assert not row.within and row.reproduced is None
    assert "**no**" in table([row])


def test_a_command_that_is_not_a_train_py_run_is_refused():
    with pytest.raises(ValueError, match=r"command 'rm -rf /'; expected `python train.py"):
        card_overrides({"name": "x.y", "command": "rm -rf /"})


def test_the_table_names_card_metric_shipped_reproduced_tolerance_and_seconds():
    text = table([Comparison("mlp.digits", "test/acc", 0.95, 0.951, 0.02, 12.3)])
    header, _, row = text.splitlines()
    assert header == "| card | metric | shipped | reproduced | tolerance | within | seconds |"
    assert row == "| mlp.digits | test/acc | 0.9500 | 0.9510 | 0.0200 | yes | 12 |"


def test_a_spread_is_the_sample_std_over_seeds_0_1_2_written_into_the_card_alone(tmp_path):
    import shutil

    shutil.copytree(zoo.registry.REGISTRY / "mlp.digits", tmp_path / "mlp.digits")
    before = {p.name: p.read_bytes() for p in (tmp_path / "mlp.digits").iterdir()}
    runs = [Retrained("mlp.digits", s, {"test/acc": a}, 2.0, 1.0) for s, a in enumerate((1, 2, 3))]
    reproduce.record_spread("mlp.digits", runs, registry=tmp_path)
    card = json.loads((tmp_path / "mlp.digits" / "card.json").read_text())
    assert card[SPREAD_KEY]["metrics"]["test/acc"] == {"values": [1, 2, 3], "std": 1.0}
    assert card[SPREAD_KEY]["seconds"] == [3.0, 3.0, 3.0]
    after = {p.name: p.read_bytes() for p in (tmp_path / "mlp.digits").iterdir()}
    assert {k for k in before if before[k] != after[k]} == {"card.json"}
    zoo.from_pretrained(tmp_path / "mlp.digits")  # the weights still match their sha256


@pytest.mark.slow
def test_a_card_trained_after_another_in_one_process_scores_as_in_a_fresh_one(tmp_path):
    """What lets the tier train its cards in one process per worker (Lightning, torch and the
    data imported once, not once per card): a card retrained after another card in the same
    process scores exactly as in the tier's pool (a new interpreter, here with as many threads),
    which leaves each run's published weights in place for `--replace-shipped`."""
    data = str(ROOT / "data")
    reproduce.retrain("cnn.digits", 0, tmp_path / "first", data)
    after = reproduce.retrain("mlp.digits", 0, tmp_path / "after", data)
    workers = max(1, (os.cpu_count() or 1) // torch.get_num_threads())  # its threads: as here
    (fresh,) = reproduce.retrain_all(["mlp.digits"], [0], workers, tmp_path / "pool", data)
    assert fresh.metrics == after.metrics
    assert zoo.registry.read_card(fresh.model_dir)["metrics"] == fresh.metrics


def test_a_seed_0_run_ships_in_place_of_its_card_keeping_the_spread(tmp_path):
    import shutil

    registry, run_dir = tmp_path / "registry", tmp_path / "run" / "registry" / "mlp.digits"
    shutil.copytree(zoo.registry.REGISTRY / "mlp.digits", registry / "mlp.digits")
    shutil.copytree(zoo.registry.REGISTRY / "mlp.digits", run_dir)
    runs = [Retrained("mlp.digits", s, {"test/acc": a}, 2.0, 1.0) for s, a in enumerate((1, 2, 3))]
    reproduce.record_spread("mlp.digits", runs, registry=registry)
    card = json.loads((run_dir / "card.json").read_text())
    (run_dir / "card.json").write_text(json.dumps(card | {"created": "2030-01-01"}))
    again = Retrained("mlp.digits", 0, {"test/acc": 1}, 2.0, 1.0, str(run_dir))
    reproduce.replace_shipped(again, registry=registry)
    shipped = json.loads((registry / "mlp.digits" / "card.json").read_text())
    assert shipped["created"] == "2030-01-01" and shipped[SPREAD_KEY]["seeds"] == [0, 1, 2]
    with pytest.raises(ValueError, match="seed 1; a card ships the run of seed 0"):
        reproduce.replace_shipped(Retrained("mlp.digits", 1, {}, 1.0, 1.0), registry=registry)


def test_every_card_was_made_with_the_shipped_weights_it_loads():
    """A card whose run loads shipped weights (a student's teacher, a GAN's judge) records their
    sha256, and they are still the shipped ones: a teacher replaced after its students were
    trained leaves them stale, and they no longer reproduce from their command."""
    stale = [line for name in CARDS for line in stale_dependencies(zoo.model_card(name))]
    assert not stale, "\n".join(stale)


def test_the_weights_a_config_loads_are_found_by_name_only():
    task = {
        "teacher": {"_target_": "zoo.load_model", "source": "distill_digits"},  # an old name
        "judges": [{"_target_": "zoo.load_model", "source": "cnn.digits"}],
        "other": {"_target_": "zoo.load_model", "source": "logs/run/checkpoints/last.ckpt"},
    }
    shipped = {
        name: zoo.model_card(name)["sha256"] for name in ("cnn.digits", "mlp.digits_distilled")
    }
    with pytest.warns(DeprecationWarning, match="'distill_digits' names the experiment"):
        assert depends_on(task) == shipped


def test_a_run_made_with_replaced_weights_is_held_back(tmp_path):
    """Shipping a tier run whose teacher was replaced since it trained would ship a card that
    no longer reproduces: it is held back, with the command that retrains it."""
    import shutil

    name = "mlp.digits_distilled"
    registry, current, old = tmp_path / "registry", tmp_path / "current", tmp_path / "old"
    for folder in (registry / name, current, old):
        shutil.copytree(zoo.registry.REGISTRY / name, folder)
    card = json.loads((old / "card.json").read_text())
    (old / "card.json").write_text(
        json.dumps(card | {"depends_on": {"cnn.digits_teacher": "0" * 64}})
    )
    teacher = zoo.model_card("cnn.digits_teacher")["sha256"]
    made_now = {"depends_on": {"cnn.digits_teacher": teacher}, "created": "2030-01-01"}
    (current / "card.json").write_text(json.dumps(card | made_now))

    held = reproduce.ship_all([Retrained(name, 0, {}, 1.0, 1.0, str(old))], registry)
    assert held == [
        f"{name} was made with cnn.digits_teacher 000000000000, the shipped cnn.digits_teacher "
        f"is {teacher[:12]}: retrain it "
        f"(zoo-reproduce {name} --record-spread --replace-shipped)"
    ]
    assert json.loads((registry / name / "card.json").read_text()) == card
    assert not reproduce.ship_all([Retrained(name, 0, {}, 1.0, 1.0, str(current))], registry)
    assert json.loads((registry / name / "card.json").read_text())["created"] == "2030-01-01"
