"""Config checks that run before anything is trained, each naming the bad key and value.

`check_config` needs only omegaconf; `check_model_fits_data` compares the built model with
the built data module (input shape, problem type, number of outputs).
"""

from __future__ import annotations

from numbers import Real
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from zoo.utils.initialization import SCHEMES
from zoo.utils.preprocessing import as_lists


class ConfigError(ValueError):
    """A config value that cannot work, found before training starts; `key` is the config
    key at fault when one is known (`model.input_shape`)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def _require(ok: bool, key: str, value: Any, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: expected {expected}", key=key)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_optimizer(cfg: DictConfig) -> None:
    """Learning rate positive; momentum in [0, 1); weight decay non-negative."""
    opt = cfg.get("optimizer")
    _require(
        isinstance(opt, DictConfig) and "_target_" in opt,
        "optimizer",
        opt,
        "a config with _target_",
    )
    lr = opt.get("lr")
    _require(_is_number(lr) and lr > 0, "optimizer.lr", lr, "a positive number")
    if "momentum" in opt:
        m = opt.momentum
        _require(_is_number(m) and 0 <= m < 1, "optimizer.momentum", m, "a number in [0, 1)")
    if "weight_decay" in opt:
        wd = opt.weight_decay
        _require(_is_number(wd) and wd >= 0, "optimizer.weight_decay", wd, "a number >= 0")


def check_instantiable(cfg: DictConfig, group: str) -> None:
    """Every entry of a callbacks/logger group must say what to build: none is skipped."""
    node = cfg.get(group)
    if node is None:
        return
    _require(isinstance(node, DictConfig), group, node, "a mapping of name -> config")
    for name, entry in node.items():
        ok = entry is None or (isinstance(entry, DictConfig) and "_target_" in entry)
        _require(ok, f"{group}.{name}", entry, "a config with _target_ (set it to null to drop it)")


def check_speedups(trainer: Any) -> None:
    """The zoo's trainer options: `channels_last` a bool; `compile` a bool or the keyword
    arguments of torch.compile."""
    last = trainer.get("channels_last", False)
    _require(isinstance(last, bool), "trainer.channels_last", last, "true or false")
    compile_ = trainer.get("compile", False)
    _require(
        isinstance(compile_, bool | DictConfig),
        "trainer.compile",
        compile_,
        "true, false or torch.compile's arguments ({mode: max-autotune})",
    )


def check_config(cfg: DictConfig) -> None:
    """Raise `ConfigError` for the first value that would make the run fail or mislead."""
    check_optimizer(cfg)
    trainer = cfg.get("trainer", {})
    epochs = trainer.get("max_epochs")
    _require(
        epochs is None or (isinstance(epochs, int) and (epochs > 0 or epochs == -1)),
        "trainer.max_epochs",
        epochs,
        "a positive integer (or -1 for no limit)",
    )
    batch = cfg.data.get("batch_size")
    _require(
        batch is None or (isinstance(batch, int) and batch > 0),
        "data.batch_size",
        batch,
        "a positive integer, or null for full-batch",
    )
    check_speedups(trainer)
    init = (cfg.get("model") or {}).get("init", "default")
    _require(init in SCHEMES, "model.init", init, f"one of {', '.join(SCHEMES)}")
    _require(isinstance(cfg.get("seed"), int), "seed", cfg.get("seed"), "an integer")
    weights = cfg.get("test_weights", "best")
    _require(weights in ("best", "last"), "test_weights", weights, "'best' or 'last'")
    ckpt = cfg.get("ckpt_path")
    _require(
        ckpt is None or Path(ckpt).is_file(),
        "ckpt_path",
        ckpt,
        "an existing checkpoint file to resume from",
    )
    for group in ("callbacks", "logger"):
        check_instantiable(cfg, group)


def check_input_shape(shape: Any, datamodule: Any) -> None:
    """The model's `input_shape` (one shape, or one per input) is the data's sample shape."""
    shape, expected = as_lists(shape), as_lists(datamodule.input_shape)
    _require(
        shape == expected,
        "model.input_shape",
        shape,
        f"{expected}, the shape of one {type(datamodule).__name__} sample",
    )


def check_last_training_batch(net: Any, datamodule: Any) -> None:
    """A last training batch of one sample cannot be batch-normalised (BatchNorm1d raises at
    the end of the first epoch): refused before training, naming the way out."""
    import torch

    batch = getattr(datamodule, "batch_size", None)
    in_memory = hasattr(datamodule, "training_tensors")
    if not batch or not in_memory or getattr(datamodule, "drop_last", False):
        return
    samples = len(datamodule.training_tensors()[0])
    if samples % batch == 1 and any(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules()):
        raise ConfigError(
            f"data.batch_size={batch}: the {samples} training samples leave a last batch of "
            "one, which batch norm cannot normalise; expected data.drop_last=true or another "
            "batch size",
            key="data.batch_size",
        )


def check_model_fits_data(net: Any, datamodule: Any) -> None:
    """The model takes the data's samples and its head answers the data's question."""
    check_input_shape(getattr(net, "input_shape", ()), datamodule)
    check_last_training_batch(net, datamodule)
    if datamodule.problem == "segmentation":  # one logit map per class, no head
        classes = getattr(net, "num_classes", None)
        _require(
            classes == datamodule.num_outputs,
            "model.num_classes",
            classes,
            f"{datamodule.num_outputs}, the classes of {type(datamodule).__name__}",
        )
        return
    head = getattr(net, "head", None)
    # an autoencoder answers no question (its input is its target); a Siamese head scores
    # pairs, whatever classes the data has
    if head is None or datamodule.problem == "metric":
        return
    problem = getattr(head, "problem", None)
    _require(
        problem == datamodule.problem,
        "model.head",
        type(head).__name__,
        f"a {datamodule.problem} head for {type(datamodule).__name__} (got a {problem} head)",
    )
    outputs = getattr(head, "num_outputs", None)
    _require(
        outputs == datamodule.num_outputs,
        "model.head outputs",
        outputs,
        f"{datamodule.num_outputs} for {type(datamodule).__name__}",
    )
