"""A model config fitted to its data: shapes and class counts read from the data module
(`cfg.data_spec`), checked before training, and errors that name the config key to change or
the model presets that would fit instead."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf

from zoo.training.checks import ConfigError, check_input_shape, check_model_fits_data
from zoo.training.presets import PRESETS, preset_config, preset_names
from zoo.utils.preprocessing import as_lists

START_FROM = "zoo.registry.start_from"
"""Loads a model config's `init_from` weights; named, as a task names its teacher, so that the
engine does not import the registry above it."""


def choice(group: str) -> str | None:
    """The config chosen for `group` in the current Hydra run (`model=cnn` -> "cnn")."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    return HydraConfig.get().runtime.choices.get(group)


def _key_paths(node: Any, module: str, key: str, value: Any, path: str) -> list[str]:
    """Config paths `path...key` of the `_target_` nodes building a `module` with `key=value`."""
    found = []
    items: Iterable[tuple[Any, Any]]
    if isinstance(node, dict):
        target = str(node.get("_target_", ""))
        if target.rpartition(".")[2] == module and node.get(key) == value:
            found.append(f"{path}.{key}")
        items = node.items()
    elif isinstance(node, list):
        items = ((str(i), v) for i, v in enumerate(node))
    else:
        return []
    for name, child in items:
        found += _key_paths(child, module, key, value, f"{path}.{name}")
    return found


def width_error(error: Any, config: dict[str, Any]) -> ConfigError:
    """A `ShapeError` raised while building the model, as a ConfigError naming the config key
    that set the width (`model.backbone._args_.1.in_features`) when it can be found."""
    paths = _key_paths(config, error.module, error.key, error.expected, "model")
    where = paths[0] if len(paths) == 1 else f"model ({error.module}.{error.key})"
    hint = "" if error.got is None else f"; set it to {error.got}"
    if error.module == "MLP" and error.key == "in_features":
        hint += " or to null (found from the data)"
    return ConfigError(f"{where}={error.expected}: {error}{hint}", key=where)


def does_not_fit(cfg: DictConfig, datamodule: Any, reason: str) -> ConfigError:
    """The model cannot serve the data: one line with the reason and the presets that fit."""
    model, data = choice("model"), choice("data")
    model = f"model={model}" if model else f"model {cfg.model.get('_target_')}"
    data = f"data={data}" if data else type(datamodule).__name__
    fits = fitting_presets(datamodule)
    instead = f"model presets that fit {data}: {', '.join(fits)}" if fits else "no preset fits it"
    return ConfigError(f"{model} does not fit {data}: {reason}; {instead}", key="model")


def _inputs(shape: Any) -> list[Any]:
    """One shape per input: [[3, 32, 32], [12]] for two inputs, [[1, 8, 8]] for one."""
    shape = list(shape or [])
    return shape if shape and isinstance(shape[0], list | tuple) else [shape]


def build_net(cfg: DictConfig, datamodule: Any) -> Any:
    """The network of `cfg.model`, shapes read from the data (`cfg.data_spec` is set to
    `datamodule.spec()` first), checked against the data; a ConfigError otherwise."""
    from omegaconf import open_dict

    from zoo.blocks.shapes import ShapeError
    from zoo.utils.builder import build, build_model

    with open_dict(cfg):
        cfg.pop("data_spec", None)
        own_shape = OmegaConf.select(cfg, "model.input_shape", default=None)  # the preset's
        if OmegaConf.is_config(own_shape):
            own_shape = OmegaConf.to_container(own_shape)
        cfg.data_spec = datamodule.spec()
    config = cast(dict[str, Any], OmegaConf.to_container(cfg.model, resolve=True))
    data_inputs = _inputs(datamodule.spec()["input_shape"])
    if config.get("input_shape") is not None:  # a preset or override that fixes its shape
        try:
            check_input_shape(config["input_shape"], datamodule)
        except ConfigError as error:
            raise does_not_fit(cfg, datamodule, str(error)) from error
    try:  # the same builder that zoo.create_model and zoo.load_checkpoint use
        net = build_model(config)
        # pretrained weights for a part (`model.init_from`) come from the registry, named as a
        # target as a task's teacher is: the engine does not import the layer above it
        net = build({"_target_": START_FROM}, allowed=(START_FROM,), model=net)
    except ShapeError as error:
        raise width_error(error, config) from error
    except (ValueError, TypeError) as error:
        reason = f"building it failed: {' '.join(str(error).split())}"
        if own_shape is not None and len(_inputs(own_shape)) != len(data_inputs):
            n = len(_inputs(own_shape))
            reason = (
                f"it takes {'one input' if n == 1 else f'{n} inputs'} "
                f"(input_shape {own_shape}) and "
                f"{type(datamodule).__name__} serves {len(data_inputs)}: "
                f"{' and '.join(map(str, data_inputs))}"
            )
        raise does_not_fit(cfg, datamodule, reason) from error
    try:
        check_model_fits_data(net, datamodule)
    except ConfigError as error:
        if error.key in ("model.input_shape", "model.head"):  # a wrong kind of model
            raise does_not_fit(cfg, datamodule, str(error)) from error
        raise
    return net


def answers(net: Any, problem: str) -> bool:
    """Whether `net`'s output answers the data's `problem`: a head of that problem, one head
    per target (multitask), one logit map per class (segmentation), embeddings (metric)."""
    if problem == "metric":
        return hasattr(net, "embed")
    if problem == "multitask":
        return hasattr(net, "heads")
    head = getattr(net, "head", None)
    if problem == "segmentation":
        return head is None and getattr(net, "num_classes", None) is not None
    return head is not None and getattr(head, "problem", None) == problem


def _fits(config: dict[str, Any], datamodule: Any) -> bool:
    """Whether the model of `config` builds, takes one batch of the data's shapes and answers
    its problem."""
    import warnings

    import torch

    from zoo.utils.builder import build_model

    shapes = _inputs(as_lists(datamodule.input_shape))
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            net = build_model(config).eval()
            check_model_fits_data(net, datamodule)
            if not answers(net, datamodule.problem):
                return False
            net(*(torch.zeros(2, *shape) for shape in shapes))  # a dry run
    except Exception:  # a preset that does not fit, whatever the reason
        return False
    return True


def fitting_presets(datamodule: Any) -> list[str]:
    """The model presets (`zoo/conf/model/*.yaml`, as `zoo.list_models()` names them) that,
    built for `datamodule`'s spec, take its samples and answer its problem, e.g. `["cnn",
    "mlp"]`; a preset that fits once its head is swapped for the data's problem is named with
    the override (`"cnn model/head=binary"`)."""
    spec = datamodule.spec()
    head_file = PRESETS / "head" / f"{datamodule.problem}.yaml"
    fits = []
    for name in preset_names():
        try:
            # as `model=<name>` composes it: the preset's own head, not the data's (head_for)
            config = preset_config(name, {"data_spec": {**spec, "problem": None}})
        except Exception:  # a preset that cannot be resolved for this data
            continue
        if _fits(config, datamodule):
            fits.append(name)
        elif isinstance(config.get("head"), dict) and head_file.is_file():
            root = OmegaConf.create({"head": OmegaConf.load(head_file), "data_spec": spec})
            head = OmegaConf.to_container(root.head, resolve=True)
            if _fits({**config, "head": head}, datamodule):
                fits.append(f"{name} model/head={datamodule.problem}")
    return fits
