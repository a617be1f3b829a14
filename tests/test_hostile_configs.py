"""A file from outside is data, never code: every loader, fed a model folder or checkpoint whose
config names something other than a registered architecture, refuses it in one line naming the
key and the target, runs nothing and writes nothing. Sizes are checked on the meta device before
memory is spent, and the card's sha256 covers the config as well as the weights."""

import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo import registry as hub
from zoo.cli import eval as eval_cli
from zoo.cli import predict, publish
from zoo.registry import files, loading
from zoo.utils.builder import UnsafeConfigError, build, registered

CANARY = "pwned"  # every hostile config tries to create this file in the working folder
WRITE = f"open({CANARY!r}, 'w')"
IDENTITY = {"_target_": "torch.nn.Identity"}
MLP = {"_target_": "zoo.blocks.MLP", "in_features": 4, "hidden": [4], "out_features": 2}

# name -> (model config, the key and the target the refusal must name)
HOSTILE = {
    "side-effecting zoo function": (
        {"_target_": "zoo.bench.processes.run_process", "args": ["-c", WRITE]},
        "model._target_='zoo.bench.processes.run_process'",
    ),
    "stdlib through a zoo module": (
        {"_target_": "zoo.bench.processes.subprocess.run", "_args_": [["touch", CANARY]]},
        "model._target_='zoo.bench.processes.subprocess.run'",
    ),
    "torch through a zoo block": (
        {"_target_": "zoo.blocks.mlp.torch.save", "_args_": [[], CANARY]},
        "model._target_='zoo.blocks.mlp.torch.save'",
    ),
    "torch through torch.nn": (
        {"_target_": "torch.nn.modules.module.torch.save", "_args_": [[], CANARY]},
        "model._target_='torch.nn.modules.module.torch.save'",
    ),
    "builtins": (
        {"_target_": "builtins.exec", "_args_": [WRITE]},
        "model._target_='builtins.exec'",
    ),
    "os": ({"_target_": "os.system", "_args_": [f"touch {CANARY}"]}, "model._target_='os.system'"),
    "subprocess": (
        {"_target_": "subprocess.run", "_args_": [["touch", CANARY]]},
        "model._target_='subprocess.run'",
    ),
    "torch.hub": (
        {"_target_": "torch.hub.load", "repo_or_dir": ".", "model": CANARY, "source": "local"},
        "model._target_='torch.hub.load'",
    ),
    "a zoo function that writes files": (
        {"_target_": "zoo.registry.save_pretrained", "model": IDENTITY, "directory": CANARY},
        "model._target_='zoo.registry.save_pretrained'",
    ),
    "a factory of another kind": (
        {"_target_": "zoo.data.ArrayDataModule.from_npz", "path": CANARY},
        "model._target_='zoo.data.ArrayDataModule.from_npz'",
    ),
    "nested in _args_": (
        {"_target_": "torch.nn.Sequential", "_args_": [{"_target_": "os.system", "_args_": ["x"]}]},
        "model._args_.0._target_='os.system'",
    ),
    "nested in a keyword": (
        {**MLP, "in_features": {"_target_": "builtins.eval", "_args_": [WRITE]}},
        "model.in_features._target_='builtins.eval'",
    ),
    "_partial_ of a function": (
        {"_target_": "os.system", "_partial_": True, "_args_": [f"touch {CANARY}"]},
        "model._target_='os.system'",
    ),
    "_partial_ that is not a bool": (
        {**IDENTITY, "_partial_": "os.system"},
        "model._partial_='os.system' (for 'torch.nn.Identity')",
    ),
    "_args_ that is not a list": (
        {**IDENTITY, "_args_": f"touch {CANARY}"},
        f"model._args_='touch {CANARY}' (for 'torch.nn.Identity')",
    ),
    "a target that is not a string": (
        {"_target_": ["os", "system"], "_args_": [f"touch {CANARY}"]},
        "model._target_=['os', 'system']",
    ),
    "a target that is a config": (
        {"_target_": {"_target_": "os.system", "_args_": [f"touch {CANARY}"]}},
        "model._target_={'_target_': 'os.system'",
    ),
    "a dunder path from a registered class": (
        {"_target_": "zoo.blocks.MLP.__init__.__globals__.os.system", "_args_": ["x"]},
        "model._target_='zoo.blocks.MLP.__init__.__globals__.os.system'",
    ),
    "a dunder path from torch.nn": (
        {"_target_": "torch.nn.Module.__subclasses__"},
        "model._target_='torch.nn.Module.__subclasses__'",
    ),
    "an unknown underscore key": (
        {**IDENTITY, "_call_": "os.system"},
        "model._call_",
    ),
}


def seal(directory: Path) -> None:
    """Write the config's sha256 into the card, as an attacker who edits both files would."""
    card = json.loads((directory / hub.CARD).read_text())
    card["config_sha256"] = hashlib.sha256((directory / hub.CONFIG).read_bytes()).hexdigest()
    (directory / hub.CARD).write_text(json.dumps(card))


def model_folder(where: Path, config: dict) -> Path:
    """The shipped mlp.digits, its config replaced by `config`, its card sealed."""
    directory = where / "folder"
    shutil.copytree(hub.REGISTRY / "mlp.digits", directory)
    saved = json.loads((directory / hub.CONFIG).read_text())
    (directory / hub.CONFIG).write_text(json.dumps({**saved, "model": config}))
    seal(directory)
    return directory


def checkpoint(where: Path, config: dict, run: dict | None = None) -> Path:
    """A train.py-like checkpoint holding mlp.digits' weights, its model config `config`."""
    card = hub.model_card("mlp.digits")
    run = run or {"data": card["data"], "task": card["task"], "task_name": "mlp_digits"}
    path = where / "hostile.ckpt"
    record = {"model": config, "run": run, "command": "python train.py"}
    state = {f"net.{k}": v for k, v in hub.load_weights(hub.REGISTRY / "mlp.digits").items()}
    torch.save({"state_dict": state, "zoo": record, "epoch": 0, "global_step": 0}, path)
    return path


COMMANDS = {"zoo-eval": eval_cli, "zoo-predict": predict, "zoo-publish": publish}


def refusal(loader: str, where: Path, config: dict, capsys) -> str:
    """Hand `config` to one loader, as a user would, and return its refusal: the error's
    message, or the one line a command printed before exiting with status 2."""
    folder = lambda: model_folder(where, config)  # noqa: E731
    ckpt = lambda: checkpoint(where, config)  # noqa: E731
    calls = {
        "from_pretrained": lambda: zoo.from_pretrained(folder()),
        "load_model": lambda: zoo.load_model(folder()),
        "create_model": lambda: zoo.create_model(str(folder())),
        "create_model(pretrained)": lambda: zoo.create_model(str(folder()), pretrained=True),
        "load_checkpoint": lambda: zoo.load_checkpoint(ckpt()),
        "load_model(ckpt)": lambda: zoo.load_model(ckpt()),
    }
    if loader in calls:
        with pytest.raises(UnsafeConfigError) as refused:
            calls[loader]()
        return str(refused.value)
    np.save(where / "x.npy", np.zeros((2, 1, 8, 8), dtype="float32"))
    argv = {
        "zoo-eval": lambda: [str(folder())],
        "zoo-eval(ckpt)": lambda: [str(ckpt())],
        "zoo-predict": lambda: [str(folder()), "x.npy"],
        "zoo-publish": lambda: [str(ckpt()), "--name", "mlp.mine", "--registry", str(where)],
    }[loader]()
    with pytest.raises(SystemExit) as stop:
        COMMANDS[loader.partition("(")[0]].main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip().removeprefix("error: ")


LOADERS = [
    "from_pretrained",
    "load_model",
    "create_model",
    "create_model(pretrained)",
    "load_checkpoint",
    "load_model(ckpt)",
    "zoo-eval",
    "zoo-eval(ckpt)",
    "zoo-predict",
    "zoo-publish",
]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("case", list(HOSTILE))
def test_every_loader_refuses_every_hostile_config_in_one_line(
    loader, case, tmp_path, monkeypatch, capsys
):
    config, words = HOSTILE[case]
    monkeypatch.chdir(tmp_path)
    message = refusal(loader, tmp_path, config, capsys)
    assert words in message and "\n" not in message, message
    assert not (tmp_path / CANARY).exists() and not list(tmp_path.glob(f"**/{CANARY}*"))


def test_data_and_task_configs_from_a_card_or_checkpoint_build_their_own_kind_only(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    card = hub.model_card("mlp.digits")
    writer = {"_target_": "zoo.data.shards_from_datamodule", "out": CANARY}
    teacher = {**card["task"], "teacher": {"_target_": "os.system", "_args_": ["x"]}}
    for data, task, words in (
        (writer, card["task"], "data._target_='zoo.data.shards_from_datamodule'"),
        (MLP, card["task"], "data._target_='zoo.blocks.MLP': not a registered data"),
        (card["data"], {"_target_": "zoo.data.DigitsDataModule"}, "task._target_='zoo.data"),
        (card["data"], teacher, "task.teacher._target_='os.system'"),
    ):
        folder = tmp_path / "folder"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(hub.REGISTRY / "mlp.digits", folder)
        (folder / hub.CARD).write_text(json.dumps({**card, "data": data, "task": task}))
        ckpt = checkpoint(tmp_path, hub.read_config(folder)["model"], {"data": data, "task": task})
        for argv in ([str(folder)], [str(ckpt)]):
            with pytest.raises(SystemExit) as stop:
                eval_cli.main(argv)
            err = capsys.readouterr().err
            assert stop.value.code == 2 and words in err and len(err.splitlines()) == 1, err
        assert not list(tmp_path.glob(f"**/{CANARY}*"))


def test_a_caller_may_trust_their_own_package_and_nothing_else():
    with pytest.raises(UnsafeConfigError, match=r"_target_='os.system'"):
        build({"_target_": "os.system", "_args_": ["x"]}, allowed=("mypkg.",))
    with pytest.raises(UnsafeConfigError, match=r"private and dunder names are refused"):
        build({"_target_": "collections.__builtins__"}, allowed=("collections.",))
    assert isinstance(
        build({"_target_": "collections.OrderedDict"}, allowed=("collections.",)), dict
    )


def test_what_configs_may_build_is_registered_classes_and_named_factories():
    names = registered(("model", "data", "task"))
    assert {"zoo.blocks.MLP", "zoo.patterns.Classifier", "torch.nn.Linear"} <= set(names)
    assert {"zoo.data.DigitsDataModule", "zoo.tasks.SupervisedTask", "zoo.load_model"} <= set(names)
    functions = {n for n, obj in names.items() if not isinstance(obj, type)}
    assert functions == {"zoo.load_model", "zoo.data.ArrayDataModule.from_npz"}, functions
    for name in zoo.list_models():  # every shipped preset builds from the registered set alone
        assert isinstance(zoo.create_model(name), torch.nn.Module) or name


def test_a_config_asking_for_a_trillion_parameters_is_refused_before_any_allocation(tmp_path):
    huge = {
        "_target_": "zoo.blocks.MLP",
        "in_features": 10**6,
        "hidden": [10**6],
        "out_features": 10**6,
    }
    folder = model_folder(tmp_path, huge)
    for strict in (True, False):
        start = time.perf_counter()
        with pytest.raises((RuntimeError, ValueError)) as refused:
            zoo.from_pretrained(folder, strict=strict)
        assert time.perf_counter() - start < 5  # at once: nothing was allocated
        message = str(refused.value)
        assert "\n" not in message and "config.json: model builds MLP" in message
        assert ("do not fit" if strict else "2,000,002,000,000 numbers") in message, message
    ckpt = checkpoint(tmp_path, huge)
    with pytest.raises(
        RuntimeError, match=r"hostile.ckpt: model builds MLP, whose weights do not fit"
    ):
        zoo.load_checkpoint(ckpt)


def test_shapes_are_compared_with_the_weights_header_on_the_meta_device(tmp_path, monkeypatch):
    folder = model_folder(tmp_path, hub.read_config(hub.REGISTRY / "mlp.digits")["model"])
    built: list[str] = []
    real = loading.build_model

    def spy(config, **kwargs):
        model = real(config, **kwargs)
        built.append(next(model.parameters()).device.type)
        return model

    monkeypatch.setattr(loading, "build_model", spy)
    net = zoo.from_pretrained(folder)
    assert built == ["meta", "cpu"] and next(net.parameters()).device.type == "cpu"
    assert hub.weight_shapes(folder) == {k: tuple(v.shape) for k, v in net.state_dict().items()}


def test_the_card_covers_the_config_and_its_record(tmp_path):
    for edit in ("model", "pretrained_cfg"):
        folder = tmp_path / edit
        shutil.copytree(hub.REGISTRY / "mlp.digits", folder)
        config = json.loads((folder / hub.CONFIG).read_text())
        if edit == "model":
            config["model"]["backbone"]["dropout"] = 0.5
        else:
            config["pretrained_cfg"]["class_names"] = list("abcdefghij")
        (folder / hub.CONFIG).write_text(json.dumps(config))
        for load in (zoo.from_pretrained, zoo.create_model, zoo.get_pretrained_cfg):
            if load is zoo.get_pretrained_cfg:
                with pytest.raises(
                    hub.ChecksumError, match=r"config.json has sha256 .* but its card says"
                ):
                    files._stored_record(folder)
                continue
            with pytest.raises(hub.ChecksumError, match=rf"{folder / hub.CONFIG} has sha256"):
                load(str(folder))
    for name in zoo.list_pretrained():  # every shipped card holds the sha256 of its config
        card = zoo.model_card(name)
        assert card["config_sha256"] == hub.sha256(hub.REGISTRY / name / hub.CONFIG), name
    saved = zoo.save_pretrained(zoo.create_model("mlp"), tmp_path / "saved")
    assert hub.read_card(saved)["config_sha256"] == hub.sha256(saved / hub.CONFIG)


def test_a_load_reads_each_file_of_a_model_directory_once(tmp_path, monkeypatch):
    """The straight road: from_pretrained reads card.json, config.json and model.safetensors
    once each, checks the last two against the card, then builds."""
    folder = shutil.copytree(hub.REGISTRY / "mlp.digits", tmp_path / "mlp")
    reads: list[str] = []
    read_bytes = Path.read_bytes

    def counted(self):
        reads.append(self.name)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counted)
    zoo.from_pretrained(folder)
    assert sorted(reads) == sorted([hub.CARD, hub.CONFIG, hub.WEIGHTS]), reads


def test_a_class_registered_by_its_user_loads_without_trusting_its_package(tmp_path, monkeypatch):
    """`@zoo.register()` puts a user's own architecture in the set a file may build; its
    package stays untrusted (its other functions remain out of reach)."""
    (tmp_path / "mynets.py").write_text(
        "import torch\nimport zoo\n\n\n"
        "@zoo.register()\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self, width: int) -> None:\n"
        "        super().__init__()\n"
        "        self.linear = torch.nn.Linear(4, width)\n\n"
        "    def forward(self, x):\n"
        "        return self.linear(x)\n\n\n"
        "def touch(path):\n"
        "    open(path, 'w').close()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import mynets

    net = mynets.Net(3)
    saved = zoo.save_pretrained(
        net, tmp_path / "mine", config={"_target_": "mynets.Net", "width": 3}
    )
    x = torch.randn(2, 4)
    assert torch.equal(zoo.from_pretrained(saved)(x), net(x))
    with pytest.raises(UnsafeConfigError, match=r"_target_='mynets.touch': not a registered"):
        build({"_target_": "mynets.touch", "_args_": [str(tmp_path / CANARY)]})
    assert not (tmp_path / CANARY).exists()
