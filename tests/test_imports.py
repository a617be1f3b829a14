"""Import costs: the zoo's architectures need torch alone, train.py's help needs no torch."""

import json
import subprocess
import sys

from conftest import ROOT

HEAVY = ["lightning", "hydra", "torchvision", "torchmetrics", "sklearn"]


def modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_zoo_and_build_blocks_imports_torch_alone():
    loaded = modules_after(
        "import torch, zoo\n"
        "from zoo.blocks import MLP, ConvStack, ManualLinear, BinaryHead, MultiLabelHead, MultiClassHead\n"
        "from zoo.patterns import Classifier\n"
        "net = Classifier(torch.nn.Sequential(ConvStack(1, [4]), MLP(64, [8], linear='manual')),\n"
        "                 lambda w: MultiClassHead(w, 10), (1, 8, 8))\n"
        "net(torch.zeros(2, 1, 8, 8)); BinaryHead(3); MultiLabelHead(3, 2)\n"
        "zoo.list_models(); zoo.model_card('cnn.digits')\n"
        "zoo.create_model('cnn.digits', pretrained=True)(torch.zeros(2, 1, 8, 8))"
    )
    assert "torch" in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_train_py_help_cfg_job_and_a_refused_sweep_do_not_import_torch():
    """Answers that need no training come before torch and Lightning are imported (seconds)."""
    refused_sweep = ["-m", "hydra/launcher=slurm", "trainer=ddp"]  # devices=-1: refused
    for args in (["--help"], ["--cfg", "job"], refused_sweep):
        loaded = modules_after(
            "import runpy, sys\n"
            f"sys.argv = ['train.py', *{args!r}]\n"
            "try:\n    runpy.run_path('train.py', run_name='__main__')\n"
            "except SystemExit:\n    pass"
        )
        assert "hydra" in loaded, args
        assert "torch" not in loaded, args
