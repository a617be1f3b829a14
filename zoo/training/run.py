"""One training run from a composed config: build, check, fit, test (for `zoo-train`)."""

from __future__ import annotations

import json
import logging
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from omegaconf import DictConfig, OmegaConf

from zoo.training.checks import ConfigError, check_config
from zoo.training.fitting import build_net, does_not_fit
from zoo.utils import builder
from zoo.utils.atomic import write_text_atomic

if TYPE_CHECKING:
    from zoo.tasks.base import ZooTask

ZOO_TRAINER_OPTIONS = ("channels_last", "compile")  # trainer keys the zoo takes, not Lightning
CONF = Path(__file__).resolve().parents[1] / "conf"  # zoo/conf, shipped in the package


def compose(overrides: list[str], output_dir: str | Path, conf_dir: Path = CONF) -> DictConfig:
    """zoo/conf/train.yaml with `overrides`, as train.py would get it but outside a Hydra app
    (tests, benchmarks, notebooks); the run writes into `output_dir`."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(conf_dir), version_base="1.3"):
        cfg = hydra_compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # resolves ${hydra:...} in the config
    with open_dict(cfg):
        del cfg.hydra
        cfg.paths.output_dir = str(output_dir)
    return cfg


def build_node(cfg: DictConfig, key: str, **built: Any) -> Any:
    """The object the run config's `key` describes (`data`, `optimizer`, `trainer`), built by
    the one builder (`zoo.utils.builder.build`) that every loader uses. The run config is the
    user's own (their command line and config folders), so it may name any public callable,
    as Hydra allows; `built` are keyword arguments already built (a task's network)."""
    config = OmegaConf.to_container(OmegaConf.select(cfg, key), resolve=True)
    return build_run_object(config, key, **built)


def build_run_object(config: Any, key: str, **built: Any) -> Any:
    """`config` built for the run config's `key`; a target or argument the callee refuses
    (a ValueError or TypeError raised as it is called) is the user's: a ConfigError naming
    `key`."""
    try:
        return builder.build(config, builder.KINDS, builder.EVERY_PACKAGE, key, **built)
    except builder.UnsafeConfigError as error:  # names the key itself
        raise ConfigError(str(error), key=key) from error
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{key}: {error}", key=key) from error


def build_group(cfg: DictConfig, key: str) -> list[Any]:
    """Every entry of a callbacks/logger mapping, built; entries set to null are dropped."""
    entries = cfg.get(key) or {}
    return [build_node(cfg, f"{key}.{name}") for name, node in entries.items() if node is not None]


def run_callbacks(cfg: DictConfig) -> list[Any]:
    """The config's callbacks, less any progress bar under `trainer.enable_progress_bar=false`,
    plus what every run gets: a graceful stop and a stop on a non-finite loss."""
    from lightning.pytorch.callbacks import ProgressBar

    from zoo.callbacks.safeguards import GracefulStop, StopOnNonFiniteLoss

    callbacks = build_group(cfg, "callbacks")
    if not cfg.trainer.get("enable_progress_bar", True):
        callbacks = [c for c in callbacks if not isinstance(c, ProgressBar)]
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    keeps_last = bool((cfg.get("callbacks") or {}).get("last_checkpoint"))
    return [*callbacks, GracefulStop(last, save_at_end=keeps_last), StopOnNonFiniteLoss()]


def resume_command(command: str | None, checkpoint: Path) -> str:
    """`command` (the run's own, or a bare `python train.py`) resuming from `checkpoint`."""
    words = shlex.split(command or "python train.py")
    words = [w for w in words if not w.startswith("ckpt_path=")]
    return shlex.join([*words, f"ckpt_path={checkpoint.resolve()}"])


def command_line() -> str | None:
    """`python train.py [--config-dir DIR] <overrides>` of the current Hydra run, quoted for a
    shell, to reproduce it (a user's config folder included)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    folders = [
        word
        for source in hydra.runtime.config_sources
        if source.provider == "command-line"
        for word in ("--config-dir", source.path)
    ]
    return shlex.join(["python", "train.py", *folders, *hydra.overrides.task])


def build(cfg: DictConfig) -> tuple[Any, Any, Any]:
    """Data module, task (network inside) and trainer, checked against each other. The
    model config reads the data's shapes from `cfg.data_spec`, set here from the data."""
    datamodule = build_node(cfg, "data")
    load_data(datamodule)
    net = build_net(cfg, datamodule)
    try:  # the task states what it needs of the net: a wrong kind of model is the user's choice
        task_class = builder.locate(cfg.task._target_, builder.KINDS, builder.EVERY_PACKAGE, "task")
        cast("type[ZooTask]", task_class).check_net(net)
    except TypeError as error:
        raise does_not_fit(cfg, datamodule, str(error)) from error
    scheduler = build_node(cfg, "scheduler") if cfg.get("scheduler") else None
    task = build_node(
        cfg, "task", net=net, optimizer=build_node(cfg, "optimizer"), scheduler=scheduler
    )
    task.run_config = OmegaConf.to_container(cfg, resolve=True)
    task.command = command_line()
    trainer_cfg, speedups = split_trainer_options(cfg.trainer)
    trainer_cfg["log_every_n_steps"] = log_interval(trainer_cfg, datamodule)
    trainer = build_run_object(
        trainer_cfg,
        "trainer",
        callbacks=[*run_callbacks(cfg), *speedups],
        logger=build_group(cfg, "logger") or False,
    )
    return datamodule, task, trainer


def log_interval(trainer: dict[str, Any], datamodule: Any) -> int:
    """`trainer.log_every_n_steps`, at most the steps of one epoch when they are known (in-memory
    data): metrics are logged per epoch, and Lightning warns when an epoch is shorter."""
    every = trainer.get("log_every_n_steps", 50)
    if not hasattr(datamodule, "training_tensors"):
        return every
    return max(1, min(every, len(datamodule.train_dataloader())))  # batches as served


def load_data(datamodule: Any) -> None:
    """Load in-memory data (downloading it if need be) before anything else is built, so a
    dataset that cannot be had ends the run before it starts, in one line."""
    from zoo.data import DatasetUnavailableError

    if hasattr(datamodule, "training_tensors"):
        try:
            datamodule.setup()
        except DatasetUnavailableError as error:
            raise ConfigError(f"data: {error}", key="data") from None


def split_trainer_options(trainer: DictConfig) -> tuple[dict[str, Any], list[Any]]:
    """The Lightning Trainer's config, and the callback that applies the zoo's own trainer
    options (`channels_last`, `compile`: `zoo.callbacks.speedups.Speedups`) if any is on."""
    from zoo.callbacks.speedups import Speedups

    rest = cast(dict[str, Any], OmegaConf.to_container(trainer, resolve=True))
    options = {key: rest.pop(key) for key in ZOO_TRAINER_OPTIONS if key in rest}
    return rest, [Speedups(**options)] if any(options.values()) else []


def check_writable(output_dir: Path) -> None:
    """Fail before training when the run could not keep its outputs."""
    import tempfile

    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=output_dir).close()
    except OSError as error:
        raise ConfigError(
            f"paths.output_dir={str(output_dir)!r}: cannot write there ({error.strerror}); "
            "expected a writable folder (set paths.log_dir or paths.output_dir)",
            key="paths.output_dir",
        ) from None


def resume_point(cfg: DictConfig) -> dict[str, Any]:
    """The checkpoint `cfg.ckpt_path` names, read (memory-mapped) and checked before anything
    is built: its epoch, global step, state dict and the model it was saved from; `{}` for a
    fresh run."""
    from zoo.utils.safe_files import load_checkpoint_file

    ckpt = cfg.get("ckpt_path")
    if not ckpt:
        return {}
    try:
        checkpoint = load_checkpoint_file(ckpt, mmap=True)
    except ValueError as error:
        raise ConfigError(f"ckpt_path: {error}", key="ckpt_path") from None
    run = (checkpoint.get("zoo") or {}).get("run") or {}
    return {
        "epoch": checkpoint.get("epoch"),
        "global_step": checkpoint.get("global_step"),
        "state": checkpoint["state_dict"],
        "model": (run.get("model") or {}).get("_target_"),
        "command": (checkpoint.get("zoo") or {}).get("command"),
    }


def check_resumable(cfg: DictConfig, task: Any, start: dict[str, Any]) -> None:
    """The checkpoint to resume from holds this run's weights, key for key and shape for
    shape; otherwise a ConfigError names the model it was saved from."""
    if not start:
        return
    own, saved = task.state_dict(), start["state"]
    differs = set(own) ^ set(saved) or {k for k in own if own[k].shape != saved[k].shape}
    if differs:
        model = start.get("model") or "another model"
        how = f" by: {start['command']}" if start.get("command") else ""
        raise ConfigError(
            f"ckpt_path={cfg.ckpt_path!r}: saved from {model}{how}; this run builds "
            f"{cfg.model.get('_target_')}, and {len(differs)} weights differ (e.g. "
            f"{sorted(differs)[0]!r}); expected a checkpoint of this run's model and data",
            key="ckpt_path",
        )


def check_optimized_metric(cfg: DictConfig, task: Any) -> None:
    """`optimized_metric` is a name the task logs, known before training (tasks whose names
    depend on the data say None and are checked when the run ends)."""
    name = cfg.get("optimized_metric")
    names = task.metric_names() if name and hasattr(task, "metric_names") else None
    if names is not None and name not in names:
        raise ConfigError(
            f"optimized_metric={name!r}: {type(task).__name__} does not log it; expected one "
            f"of {sorted(names)}",
            key="optimized_metric",
        )


def fit(cfg: DictConfig, trainer: Any, task: Any, datamodule: Any, start: dict[str, Any]) -> None:
    """`trainer.fit`, resuming from `cfg.ckpt_path` (where it stood: `start`) if set; a SIGTERM or
    Ctrl-C ends it with `TrainingStopped` that says how to resume, and a finished run that is
    resumed says how to go on."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from zoo.callbacks.safeguards import GracefulStop

    ckpt = cfg.get("ckpt_path")
    try:
        trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt)
    except SIGTERMException:
        (stop,) = (c for c in trainer.callbacks if isinstance(c, GracefulStop))
        raise stop.stopped(trainer, resume_command(task.command, stop.checkpoint)) from None
    if ckpt and trainer.global_step == start.get("global_step"):
        epochs = trainer.max_epochs
        raise ConfigError(
            f"ckpt_path={ckpt!r}: this run already finished (epoch {start.get('epoch')}, "
            f"trainer.max_epochs={epochs}); to train on, add trainer.max_epochs={2 * epochs}",
            key="ckpt_path",
        )


def train(cfg: DictConfig) -> dict[str, float]:
    """Train (and test the best or the last weights, `cfg.test_weights`) as the config says;
    return the metrics."""
    check_config(cfg)
    start = resume_point(cfg)
    output_dir = Path(cfg.paths.output_dir)
    check_writable(output_dir)
    import lightning.pytorch as L

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule, task, trainer = build(cfg)
    check_resumable(cfg, task, start)
    check_optimized_metric(cfg, task)
    write_text_atomic(output_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))

    metrics: dict[str, float] = {}
    if cfg.get("train", True):
        fit(cfg, trainer, task, datamodule, start)
        say_why_it_stopped(trainer)
        metrics |= {k: float(v) for k, v in trainer.callback_metrics.items()}
    if cfg.get("test", True) and getattr(datamodule, "has_test", True):  # arrays may have none
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        if cfg.get("test_weights", "best") == "last":
            best = ""  # the weights the fit ended with
        trainer.test(task, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        metrics |= {k: float(v) for k, v in trainer.callback_metrics.items()}
    if trainer.is_global_zero:
        write_text_atomic(output_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def say_why_it_stopped(trainer: Any) -> None:
    """Log why the fit ended: early stopping (Lightning says nothing of it) or the epochs and
    steps it was given."""
    stopper, log = trainer.early_stopping_callback, logging.getLogger("zoo")
    if not trainer.is_global_zero:  # one process speaks for a distributed run
        return
    if stopper is not None and stopper.stopped_epoch:
        log.info(
            f"early stopping at epoch {stopper.stopped_epoch}: {stopper.monitor} did not "
            f"improve for {stopper.patience} validations (best {float(stopper.best_score):.4f})"
        )
    elif not trainer.interrupted:
        log.info(f"trained {trainer.current_epoch} epochs, {trainer.global_step} steps")


def optimized_metric(cfg: DictConfig, metrics: dict[str, float]) -> float | None:
    """The value of `cfg.optimized_metric` (for sweepers), or a clear error if it was never logged."""
    name = cfg.get("optimized_metric")
    if not name:
        return None
    if name not in metrics:
        raise ConfigError(
            f"optimized_metric={name!r}: expected one of the logged {sorted(metrics)}"
        )
    return metrics[name]
