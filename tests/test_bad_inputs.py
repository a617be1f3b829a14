"""Every command (train.py included), fed the bad inputs people really hand it, ends in one `error: ...` line that
names the input and what was expected, with exit code 2, no traceback, and never the advice
to load something unsafely. (More of train.py's cases are in test_config.py.)"""

import shutil

import numpy as np
import pytest
import torch

from zoo import registry as hub
from zoo.bench import command as bench
from zoo.cli import (
    adversarial,
    compare_runs,
    distill_report,
    eval,
    feature_vis,
    judge,
    predict,
    publish,
    reproduce,
    seq2seq_report,
    shards,
)

UNSAFE_ADVICE = ("allow_pickle", "weights_only=False", "weights_only = False", "unsafe")


class Pickled:  # an object a weights-only load must refuse to build
    pass


def write_bad_files(d):
    """Every bad file of the table, under d."""
    (d / "empty.ckpt").write_bytes(b"")
    (d / "text.ckpt").write_text("epoch=3 acc=0.9\n")
    torch.save({"state_dict": {"w": torch.zeros(1000)}}, d / "whole.ckpt")
    data = (d / "whole.ckpt").read_bytes()
    (d / "truncated.ckpt").write_bytes(data[: len(data) // 2])
    torch.save({"state_dict": {}}, d / "foreign.ckpt")  # another tool's checkpoint
    torch.save(torch.zeros(3), d / "tensor.ckpt")
    torch.save({"state_dict": Pickled()}, d / "pickled.ckpt")
    (d / "nocard").mkdir()
    shutil.copy(hub.REGISTRY / "mlp.digits" / hub.CONFIG, d / "nocard")
    shutil.copy(hub.REGISTRY / "mlp.digits" / hub.WEIGHTS, d / "nocard")
    shutil.copytree(hub.REGISTRY / "mlp.digits", d / "badsha")
    weights = d / "badsha" / hub.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    good = np.zeros((2, 1, 8, 8), dtype="float32")
    np.save(d / "good.npy", good)
    (d / "empty.npy").write_bytes(b"")
    (d / "text.npy").write_text("1,2,3\n4,5,6\n")
    (d / "truncated.npy").write_bytes((d / "good.npy").read_bytes()[:100])
    np.save(d / "zero_rows.npy", np.zeros((0, 1, 8, 8), dtype="float32"))
    np.save(d / "wrong_rank.npy", np.zeros((2, 8, 8), dtype="float32"))
    np.save(d / "strings.npy", np.array([["a"] * 64] * 2))
    np.save(d / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(d / "nan.npy", np.full((2, 1, 8, 8), np.nan, dtype="float32"))
    np.save(d / "inf.npy", np.full((2, 1, 8, 8), np.inf, dtype="float32"))
    np.save(d / "complex.npy", np.zeros((2, 1, 8, 8), dtype="complex64"))
    (d / "inputs.csv").write_text("0,1\n")
    torch.save({"x": Pickled()}, d / "pickled.pt")
    torch.save({"x": torch.zeros(2)}, d / "dict.pt")
    (d / "sweep").mkdir()
    (d / "run").mkdir()
    from conftest import write_png

    for split in ("train", "val"):  # an image tree with one file that is no image
        for name in ("a", "b"):
            (d / "images" / split / name).mkdir(parents=True)
            write_png(
                torch.zeros(1, 4, 4, dtype=torch.uint8), d / "images" / split / name / "0.png"
            )
    (d / "images" / "val" / "b" / "0.png").write_text("not a png")


SOURCES = {  # a model source, as each command takes it: what is wrong -> the expected words
    "missing.ckpt": "no such file",
    "empty.ckpt": "the file is empty",
    "text.ckpt": "cannot be read as tensors only",
    "truncated.ckpt": "cannot be read as tensors only",
    "pickled.ckpt": "cannot be read as tensors only",
    "foreign.ckpt": "has no zoo model config",
    "tensor.ckpt": "holds no state_dict",
    "nocard": "card.json is missing",
    "badsha": "but its card says",
    "mlp.nope": "mlp.nope",
}
INPUTS = {  # predict's array file
    "missing.npy": "no such file",
    "empty.npy": "the file is empty",
    "text.npy": "not a .npy array of numbers",
    "truncated.npy": "not a .npy array of numbers",
    "zero_rows.npy": "holds no samples",
    "wrong_rank.npy": "expected (N, 1, 8, 8)",
    "strings.npy": "dtype <U1",
    "objects.npy": "not a .npy array of numbers",
    "nan.npy": "NaN or infinite",
    "inf.npy": "NaN or infinite",
    "complex.npy": "dtype complex64",
    "inputs.csv": "expected a .npy or .pt array",
    "pickled.pt": "cannot be read as tensors only",
    "dict.pt": "holds a dict",
}
CASES = [
    *((eval, [s], w) for s, w in SOURCES.items()),
    (eval, ["mlp.digits", "--split", "train"], "invalid choice"),
    (predict, ["cnn.digits", "good.npy", "--out", "/no/such/dir/p.csv"], "no folder /no/such/dir"),
    *((predict, [s, "good.npy"], w) for s, w in list(SOURCES.items())[:4]),
    *((predict, ["cnn.digits", i], w) for i, w in INPUTS.items()),
    (judge, ["mlp.nope"], "mlp.nope"),
    (judge, ["cnn.digits"], "cannot sample"),
    (judge, ["gan.digits", "--samples", "0"], "expected a positive integer"),
    (judge, ["gan.digits", "--judge", "empty.ckpt"], "the file is empty"),
    (adversarial, ["badsha"], "but its card says"),
    (adversarial, ["cnn.digits", "--epsilons", "2"], "expected a number in [0, 1)"),
    (adversarial, ["cnn.digits", "--steps", "-1"], "expected a positive integer"),
    (feature_vis, ["text.ckpt"], "cannot be read as tensors only"),
    (feature_vis, ["cnn.digits", "--steps", "0"], "expected a positive integer"),
    (feature_vis, ["cnn.digits", "--targets", "10", "--steps", "1"], "expected indices in [0, 10)"),
    (feature_vis, ["cnn.digits", "--layer", "nope", "--steps", "1"], "nope"),
    (distill_report, ["truncated.ckpt"], "cannot be read as tensors only"),
    (distill_report, ["mlp.digits", "--classes", "12"], "expected classes in [0, 10)"),
    (distill_report, ["mlp.digits", "--raise-bias", "1"], "--raise-bias needs --classes"),
    (seq2seq_report, ["cnn.digits"], "expected a seq2seq model"),
    (seq2seq_report, ["foreign.ckpt"], "has no zoo model config"),
    (compare_runs, ["no_such_sweep"], "expected a multirun directory"),
    (compare_runs, ["sweep"], "no runs"),
    (publish, ["run", "--name", "mlp.mine"], "expected one best checkpoint"),
    (publish, ["empty.ckpt", "--name", "mlp.mine"], "the file is empty"),
    (publish, ["run", "--name", "mine"], "expected <architecture>.<tag>"),
    (bench, ["--epochs", "0"], "expected a positive integer"),
    (reproduce, ["mlp.nope"], "mlp.nope: no such card"),
    (reproduce, ["mlp.digits", "--workers", "0"], "expected a positive integer"),
    (shards, ["--data", "nope", "--out", "o"], "--data 'nope': no such data config"),
    (shards, ["--data", "digits", "--out", "o", "nope=1"], "Could not override 'data.nope'"),
    (shards, ["--data", "digits", "--out", "o", "target=odd"], "data.target='odd'"),
    (shards, ["--data", "digits", "--out", "o", "jitter=1"], "changes its training inputs"),
    (shards, ["--data", "digit_tones", "--out", "o"], "serves 2 inputs per sample"),
    (shards, ["--data", "shards", "--out", "o", "path=run"], "data.path='run' has no shards.json"),
    (shards, ["--data", "digits", "--out", "empty.ckpt"], "a file, expected a folder"),
    (shards, ["--data", "digits", "--out", "nocard"], "holds files that are not shards"),
    (shards, ["--data", "digits", "--out", "o", "--workers", "0"], "expected a positive integer"),
    (shards, ["--images", "missing", "--out", "o"], "missing: no such folder"),
    (shards, ["--images", "run", "--out", "o"], "expected train/ and val/"),
    (shards, ["--images", "images", "--out", "o"], "0.png: cannot be read as an image"),
    (shards, ["--images", "images", "--out", "o", "a=1"], "overrides apply to --data"),
]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    write_bad_files(d)
    return d


@pytest.mark.parametrize(
    ("command", "argv", "words"),
    CASES,
    ids=[f"{c.__name__.split('.')[-1]}:{' '.join(a)}" for c, a, _ in CASES],
)
def test_every_command_answers_a_bad_input_with_one_error_line(
    command, argv, words, bad_files, monkeypatch, capsys
):
    monkeypatch.chdir(bad_files)
    with pytest.raises(SystemExit) as stop:
        command.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    last = err.strip().splitlines()[-1]
    assert "error: " in last and words in last, err
    assert "Traceback" not in err
    assert not any(advice in err for advice in UNSAFE_ADVICE), err


def test_the_table_covers_every_command(capsys):
    import tomllib
    from conftest import ROOT

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    modules = {target.split(":")[0] for target in scripts.values()} - {"zoo.train"}
    tried = {c.__name__ for c, _, _ in CASES}
    assert tried == modules, modules ^ tried
    with capsys.disabled():
        print(f"\n{len(CASES)} bad inputs tried on {len(tried)} commands (train.py's: test_config)")


def foreign_checkpoint(path):
    """A train.py checkpoint of another architecture (a Siamese net), as a user might pass."""
    record = {
        "run": {"model": {"_target_": "zoo.patterns.Siamese"}},
        "command": "python train.py experiment=siamese_glyphs",
    }
    state = {"net.encoder.0.weight": torch.zeros(4, 1, 3, 3)}
    torch.save({"state_dict": state, "zoo": record, "epoch": 3, "global_step": 30}, path)


def write_bad_arrays(d):
    """The npz files of train.py's table: text labels, a text file, features with a NaN."""
    x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    np.savez(d / "strings.npz", x_train=x, y_train=np.array(list("ab") * 20))
    (d / "text.npz").write_text("x_train,y_train\n1,0\n")
    x_nan = x.copy()
    x_nan[3, 1] = np.nan
    np.savez(d / "nan.npz", x_train=x_nan, y_train=np.arange(40) % 2)


TRAIN_CASES = {  # train.py's arguments -> the words of its one error line
    "optimizer.lr=-1": "error: optimizer.lr=-1: expected a positive number",
    "model.backbone.in_features=65 experiment=mlp_digits": "MLP expected input of shape (N, 65)",
    "ckpt_path=empty.ckpt": "the file is empty; expected a .ckpt written by train.py",
    "paths.log_dir=README/logs": "README is not a folder; expected a writable place",
    "paths.output_dir=README/run": "cannot write there (Not a directory)",
    "data=mnist": "MNIST could not be downloaded into",
    "ckpt_path=foreign.ckpt": "saved from zoo.patterns.Siamese by: python train.py experiment=siamese_glyphs",
    "model=unet": "model=unet does not fit data=digits: SupervisedTask needs a net whose .head",
    "model=autoencoder": "model=autoencoder does not fit data=digits: SupervisedTask needs",
    "data=arrays data.path=strings.npz": "y_train: an array of dtype <U1; expected finite numbers",
    "data=arrays data.path=text.npz": "not an .npz archive of numeric arrays",
    "data=arrays data.path=nan.npz model=mlp": "x_train: 1 values are NaN or infinite",
    "experiment=multilabel_digits optimized_metric=val/acc": (
        "optimized_metric='val/acc': SupervisedTask does not log it; expected one of"
    ),
}


@pytest.mark.parametrize("args", list(TRAIN_CASES))
def test_train_py_answers_a_bad_input_with_one_line_before_training(
    args, tmp_path, monkeypatch, capsys
):
    """In-process (`zoo.train.main`, as `python train.py` runs it): exit 2, one `error:` line
    naming the input and what to do, no traceback, and no run folder left behind."""
    import torchvision.datasets
    from conftest import train_main

    def no_network(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", no_network)
    monkeypatch.chdir(tmp_path)
    foreign_checkpoint(tmp_path / "foreign.ckpt")
    write_bad_arrays(tmp_path)
    (tmp_path / "empty.ckpt").touch()
    (tmp_path / "README").touch()  # a file where a folder is expected
    logs = tmp_path / "logs"
    argv = [*args.split(), f"paths.data_dir={tmp_path / 'data'}"]
    if "paths.log_dir" not in args:
        argv.append(f"paths.log_dir={logs}")
    status = train_main(monkeypatch, *argv)
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert TRAIN_CASES[args] in lines[0], lines[0]
    assert not any(advice in err for advice in UNSAFE_ADVICE), err
    assert not logs.exists()  # a run that never trained leaves no folder
    if args == "data=mnist":  # the files to fetch and the folder to put them in
        assert "copy train-images-idx3-ubyte" in lines[0] and str(tmp_path / "data") in lines[0]


def test_train_py_cfg_job_resolve_prints_every_experiment_resolved(monkeypatch, capsys):
    """`--cfg job --resolve` prints the composed config with every interpolation resolved (the
    presets' data_spec defaults were lists, which omegaconf cannot resolve in place)."""
    import sys

    import yaml
    from conftest import EXPERIMENTS

    import zoo.train

    for experiment in ["cnn_digits", *EXPERIMENTS[:: max(1, len(EXPERIMENTS) // 6)]]:
        argv = ["train.py", "--cfg", "job", "--resolve", f"experiment={experiment}"]
        monkeypatch.setattr(sys, "argv", argv)
        zoo.train.main()
        out = capsys.readouterr().out
        assert "${" not in out, out
        assert yaml.safe_load(out)["model"]["_target_"].startswith("zoo."), experiment


CREATE_CASES = [  # create_model's arguments -> the words of its ValueError
    (("film_vqa",), {"input_shape": (3, 32, 32)}, "film_vqa takes 2 inputs"),
    (("cnn",), {"input_shape": (40,)}, "ConvStack takes dims=1 (signals (N, C, L)) or dims=2"),
    (("cnn",), {"input_shape": (1, 1, 40)}, "cannot take samples of shape (1, 1, 40)"),
    (("mlp",), {"input_shape": [[1, 8, 8], [12]]}, "mlp takes 1 input"),
]


@pytest.mark.parametrize(("args", "kwargs", "words"), CREATE_CASES)
def test_create_model_names_a_shape_it_cannot_take(args, kwargs, words):
    import zoo

    with pytest.raises(ValueError) as refused:
        zoo.create_model(*args, **kwargs)
    assert words in str(refused.value) and "\n" not in str(refused.value), refused.value
