"""The package works from a wheel, not only from this checkout: weights and cards included."""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_wheel_installs_and_serves_pretrained_models(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("zoo-*.whl")

    # A fresh environment whose only zoo is the wheel; torch & co. come from this one's
    # site-packages (added as a plain path, so its editable install of zoo is not seen).
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import torch, zoo\n"
        "print(zoo.__file__)\n"
        "net = zoo.create_model('cnn_digits', pretrained=True)\n"
        "print(net(torch.zeros(3, 1, 8, 8)).shape)\n"
        "print(zoo.model_card('cnn_digits')['metrics']['test/acc'])\n"
    )
    out = subprocess.run([python, "-c", probe], cwd=elsewhere, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    location, shape, accuracy = out.stdout.strip().splitlines()
    assert location.startswith(str(site)) and str(ROOT) not in location
    assert shape == "torch.Size([3, 10])" and float(accuracy) > 0.97
