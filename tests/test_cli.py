"""The command-line tools: preprocessing from the weights' record, one-line errors, tables."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT

from zoo.cli.common import markdown_table, or_exit
from zoo.cli.predict import predict


@pytest.fixture(scope="module")
def raw_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    return torch.tensor(digits.images[:, None], dtype=torch.float32), digits.target


def test_predict_preprocesses_raw_pixels_with_the_record_and_warns_when_they_are_not(
    raw_digits, capsys
):
    images, labels = raw_digits
    predicted, probabilities = predict("cnn.digits", images, raw=True)
    assert (predicted.numpy() == labels).mean() > 0.97
    assert probabilities.max(1).values.median() < 1.0  # calibrated, not saturated
    assert "warning" not in capsys.readouterr().err

    predicted, probabilities = predict("cnn.digits", images, raw=False)  # pixels 0-16 as inputs
    assert "pass --raw" in capsys.readouterr().err
    assert (predicted.numpy() == labels).mean() < 0.95  # what the warning protects against


def test_predict_imports_neither_scikit_learn_nor_lightning(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).integers(0, 17, (5, 1, 8, 8)))
    probe = (
        "import sys, json\n"
        "from zoo.cli.predict import main\n"
        f"main(['cnn.digits', {str(tmp_path / 'x.npy')!r}, '--raw', '--out', "
        f"{str(tmp_path / 'p.csv')!r}])\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "torch" in loaded
    assert not loaded & {"sklearn", "lightning", "torchvision", "torchmetrics", "hydra"}
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 6


def test_or_exit_turns_a_users_error_into_one_line_and_lets_bugs_through(capsys):
    with pytest.raises(SystemExit) as stop:
        or_exit(lambda: (_ for _ in ()).throw(KeyError("unknown thing 'x'")))
    assert stop.value.code == 2 and capsys.readouterr().err == "error: unknown thing 'x'\n"
    with pytest.raises(ZeroDivisionError):
        or_exit(lambda: 1 / 0)


def test_markdown_table():
    assert markdown_table(["a", "b"], [["x", 0.12345], ["y", 2]], digits=2).splitlines() == [
        "| a | b |",
        "|---|---|",
        "| x | 0.12 |",
        "| y | 2 |",
    ]


def test_a_card_prints_the_command_less_what_only_says_where_a_run_writes():
    """`zoo-publish` keeps every override that changes what is trained, and drops the run's
    folders, progress bar and logger, which a reader reproducing the card has no use for."""
    from zoo.cli.publish import reproducing_command

    run = (
        "python train.py experiment=siamese_omniglot seed=1 data.val_characters=20 "
        "paths.log_dir=/tmp/runs 'hydra.run.dir=/tmp/x y' trainer.enable_progress_bar=false "
        "logger=none trainer.max_epochs=25"
    )
    assert reproducing_command(run) == (
        "python train.py experiment=siamese_omniglot seed=1 data.val_characters=20 "
        "trainer.max_epochs=25"
    )
