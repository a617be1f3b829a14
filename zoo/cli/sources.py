"""Resolve what a command-line user names — a registered model, a model directory or a
train.py checkpoint — into the network plus the data and task configs it was trained with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo import hub
from zoo.builder import build, locate


@dataclass
class Source:
    """A model ready to evaluate, with the data and task configs it was trained with."""

    net: nn.Module
    data: dict[str, Any]
    task: dict[str, Any]
    card: dict[str, Any]


def resolve(source: str, data_dir: str | None = None) -> Source:
    """`source`: a name from `zoo.list_models(pretrained=True)`, a directory written by
    `zoo.save_pretrained`, or a `.ckpt` written by train.py."""
    path = Path(source)
    if path.suffix == ".ckpt":
        record = torch.load(path, map_location="cpu", weights_only=True).get("zoo") or {}
        run = record.get("run") or {}
        net, card = hub.load_checkpoint(path), {"command": record.get("command")}
        data, task = run.get("data"), run.get("task")
    else:
        net = hub.load_model(source)
        card = hub.read_card(path) if path.is_dir() else hub.model_card(source)
        data, task = card.get("data"), card.get("task")
    if not data or not task:
        raise ValueError(f"{source} does not say which data and task it was trained with")
    if "data_dir" in data:  # a path on the machine that trained it: use this machine's
        data = {**data, "data_dir": data_dir or "data"}
    return Source(net=net, data=data, task=task, card=card)


def build_data(config: dict[str, Any]) -> Any:
    return build(config, allowed=("zoo.data.",))


def build_task(config: dict[str, Any], net: nn.Module) -> Any:
    """The task the net was trained with, for evaluation (no optimizer)."""
    kwargs = {k: v for k, v in config.items() if not k.startswith("_")}
    return locate(config["_target_"], allowed=("zoo.tasks.",))(net=net, **kwargs)
