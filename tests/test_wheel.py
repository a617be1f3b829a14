"""The package works installed from its wheel, not only from this checkout: configs, weights and
cards ship inside it, the commands are console scripts, and a user's own config folder joins
the shipped ones. Everything runs from an empty directory."""

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, run_metrics

USER_EXPERIMENT = """# @package _global_
defaults:
  - override /model: mlp
  - override /scheduler: cosine

model:
  backbone:
    hidden: [32]
trainer:
  max_epochs: 2
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv whose only zoo is the built wheel; torch & co. come from this environment's
    site-packages, added as a plain path (so its editable zoo is not seen)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source, dist = tmp / "source", tmp / "dist"
    files = subprocess.run(  # a clean copy: no stale build/ folder can leak into the wheel
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("zoo-*.whl")
    env_dir = tmp / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    site = Path(subprocess.run(purelib, check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = ["--python", str(python), "install", "-q", "--no-deps", str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", *install],
        check=True,
        capture_output=True,
    )
    return env_dir


def run(env_dir: Path, cwd: Path, *command: str) -> subprocess.CompletedProcess:
    """A command of the installed environment (`python`, `zoo-train`, ...), which must succeed."""
    executable = str(env_dir / "bin" / command[0])
    done = subprocess.run([executable, *command[1:]], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.slow
def test_the_installed_commands_train_evaluate_and_predict(installed, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()

    where = run(installed, empty, "python", "-c", "import zoo.conf; print(zoo.conf.__file__)")
    assert str(ROOT) not in where.stdout and "site-packages" in where.stdout

    trained = run(installed, empty, "zoo-train", "experiment=cnn_digits", "trainer.max_epochs=2")
    assert "test/acc=" in trained.stdout  # the console says it, and metrics.json holds it
    metrics = run_metrics(empty / "logs")
    assert float(metrics["test/acc"]) > 0.5  # 2 epochs, far above chance (0.1)
    (checkpoint,) = (empty / "logs" / "cnn_digits" / "runs").glob("*/checkpoints/last.ckpt")

    module = run(installed, empty, "python", "-m", "zoo.train", "--cfg", "job", "model=mlp")
    assert "zoo.patterns.Classifier" in module.stdout

    # a user's own config folder joins the shipped ones through Hydra's search path
    (empty / "my_conf" / "experiment").mkdir(parents=True)
    (empty / "my_conf" / "experiment" / "tiny_mlp.yaml").write_text(USER_EXPERIMENT)
    mine = run(installed, empty, "zoo-train", "--config-dir", "my_conf", "experiment=tiny_mlp")
    assert "test/acc=" in mine.stdout
    (config,) = (empty / "logs" / "tiny_mlp" / "runs").glob("*/config.yaml")
    assert "hidden:\n    - 32" in config.read_text()
    (last,) = (empty / "logs" / "tiny_mlp" / "runs").glob("*/checkpoints/last.ckpt")
    command = torch.load(last, map_location="cpu", weights_only=True)["zoo"]["command"]
    assert command.startswith(f"python train.py --config-dir {empty / 'my_conf'} ")

    evaluated = run(installed, empty, "zoo-eval", str(checkpoint))
    assert "test/acc" in evaluated.stdout

    shipped = run(installed, empty, "zoo-eval", "cnn.digits")
    accuracy = float(dict(line.split("\t") for line in shipped.stdout.splitlines())["test/acc"])
    read_card = "import json, zoo; print(json.dumps(zoo.model_card('cnn.digits')))"
    card = json.loads(run(installed, empty, "python", "-c", read_card).stdout)
    assert accuracy == pytest.approx(card["metrics"]["test/acc"], abs=1e-4)


@pytest.mark.slow
def test_the_wheel_ships_the_package_and_leaves_the_benchmarks_yardsticks_out(installed, tmp_path):
    """The hand-written scripts the benchmark measures train.py against stay in the checkout."""
    find = "import zoo, pathlib; print(pathlib.Path(zoo.__file__).parent)"
    package = Path(run(installed, tmp_path, "python", "-c", find).stdout.strip())
    assert (package / "bench" / "command.py").is_file() and (package / "py.typed").is_file()
    assert not (package / "bench" / "baselines").exists()
    assert sorted(p.name for p in package.glob("registry/weights/*/card.json"))


@pytest.mark.slow
def test_every_console_script_is_installed_and_resolves(installed, tmp_path):
    from importlib.metadata import entry_points

    declared = {
        ep.name for ep in entry_points(group="console_scripts") if ep.name.startswith("zoo-")
    }
    assert declared and all((installed / "bin" / name).is_file() for name in declared)
    load_all = (
        "from importlib.metadata import entry_points\n"
        "eps = [ep for ep in entry_points(group='console_scripts') if ep.name.startswith('zoo-')]\n"
        "print(sorted(ep.name for ep in eps if callable(ep.load())))\n"
    )
    loaded = run(installed, tmp_path, "python", "-c", load_all).stdout.strip()
    assert loaded == str(sorted(declared))


@pytest.mark.slow
def test_the_installed_predict_preprocesses_from_the_weights_record(installed, tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    np.save(tmp_path / "raw.npy", digits.images[:300, None].astype("float32"))  # pixels 0-16
    probe = (
        "import sys\n"
        "from zoo.cli.predict import main\n"
        "main(sys.argv[1:])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'lightning', 'torchvision'})\n"
        "print('heavy:', heavy)\n"
    )
    raw = run(installed, tmp_path, "python", "-c", probe, "cnn.digits", "raw.npy", "--raw")
    assert "heavy: []" in raw.stdout and "warning" not in raw.stderr
    rows = (tmp_path / "predictions.csv").read_text().splitlines()[1:]
    predicted = np.array([int(row.split(",")[1]) for row in rows])
    assert (predicted == digits.target[:300]).mean() > 0.97

    unscaled = run(installed, tmp_path, "zoo-predict", "cnn.digits", "raw.npy")
    assert "--raw" in unscaled.stderr  # raw pixels given as model inputs: warned, not silent
