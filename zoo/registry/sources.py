"""Resolve what a command-line user names — a registered model, a model directory or a
train.py checkpoint — into the network plus the data and task configs it was trained with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from torch import nn

from zoo.registry.loading import load_model, model_of_checkpoint
from zoo.utils.builder import build, locate
from zoo.utils.preprocessing import PretrainedRecord
from zoo.utils.safe_files import load_checkpoint_file


@dataclass
class Source:
    """A model ready to evaluate, with the data and task configs it was trained with."""

    net: nn.Module
    data: dict[str, Any]
    task: dict[str, Any]
    card: dict[str, Any]


def resolve(source: str, data_dir: str | None = None) -> Source:
    """The model named by `source` — weights' name from `zoo.list_pretrained()` (or the
    experiment that trained them), a directory written by `zoo.save_pretrained`, or a `.ckpt`
    written by train.py — with the data and task configs it was trained with; `data_dir`
    replaces a downloadable dataset's directory (default `data`)."""
    path = Path(source)
    card: dict[str, Any]
    if path.suffix == ".ckpt":
        checkpoint = load_checkpoint_file(path, mmap=True)  # read once, for net and record
        record = checkpoint.get("zoo") or {}
        run = record.get("run") or {}
        net, card = model_of_checkpoint(checkpoint, path), {"command": record.get("command")}
        data, task = run.get("data"), run.get("task")
    else:
        net = load_model(source)
        card = cast(PretrainedRecord, net.pretrained_cfg).card or {}
        data, task = card.get("data"), card.get("task")
    if not data or not task:
        raise ValueError(f"{source} does not say which data and task it was trained with")
    if "data_dir" in data:  # a path on the machine that trained it: use this machine's
        data = {**data, "data_dir": data_dir or "data"}
    return Source(net=net, data=data, task=task, card=card)


def build_data(config: dict[str, Any]) -> Any:
    """The data module a `zoo.data` config describes."""
    return build(config, kinds=("data",), where="data")


# task arguments that are modules; records written before they were named them by a string
MODULE_ARGUMENTS = ("teacher", "judge")


def build_task(config: dict[str, Any], net: nn.Module) -> Any:
    """The task the net was trained with, for evaluation (no optimizer); the modules it takes
    (a teacher, a judge) are built from their configs (`zoo.load_model`, ...)."""
    kwargs = {k: v for k, v in config.items() if not k.startswith("_")}
    for key in MODULE_ARGUMENTS:
        if isinstance(kwargs.get(key), str):  # an older record: the weights' name
            kwargs[key] = {"_target_": "zoo.load_model", "source": kwargs[key]}
    kwargs = {k: build(v, kinds=("task", "model"), where=f"task.{k}") for k, v in kwargs.items()}
    return locate(config.get("_target_"), kinds=("task",), where="task")(net=net, **kwargs)
