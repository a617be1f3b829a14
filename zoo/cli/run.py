"""One training run from a composed config: build, check, fit, test (for `zoo-train`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from zoo.cli.checks import ConfigError, check_config
from zoo.cli.fitting import build_net

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


def instantiate_group(node: DictConfig | None) -> list[Any]:
    """Build every entry of a callbacks/logger mapping; entries set to null are dropped."""
    from hydra.utils import instantiate

    return [instantiate(entry) for entry in (node or {}).values() if entry is not None]


def command_line() -> str | None:
    """`python train.py [--config-dir DIR] <overrides>` of the current Hydra run, to
    reproduce it (a user's config folder included)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    folders = [
        f"--config-dir {source.path}"
        for source in hydra.runtime.config_sources
        if source.provider == "command-line"
    ]
    return " ".join(["python train.py", *folders, *hydra.overrides.task])


def build(cfg: DictConfig) -> tuple[Any, Any, Any]:
    """Data module, task (network inside) and trainer, checked against each other. The
    model config reads the data's shapes from `cfg.data_spec`, set here from the data."""
    from hydra.utils import instantiate

    datamodule = instantiate(cfg.data)
    net = build_net(cfg, datamodule)
    scheduler = instantiate(cfg.scheduler) if cfg.get("scheduler") else None
    task = instantiate(cfg.task, net=net, optimizer=instantiate(cfg.optimizer), scheduler=scheduler)
    task.run_config = OmegaConf.to_container(cfg, resolve=True)
    task.command = command_line()
    trainer = instantiate(
        cfg.trainer,
        callbacks=instantiate_group(cfg.get("callbacks")),
        logger=instantiate_group(cfg.get("logger")) or False,
    )
    return datamodule, task, trainer


def train(cfg: DictConfig) -> dict[str, float]:
    """Train (and test with the best checkpoint) as the config says; return the metrics."""
    check_config(cfg)
    import lightning.pytorch as L

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule, task, trainer = build(cfg)
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)

    metrics: dict[str, float] = {}
    if cfg.get("train", True):
        trainer.fit(task, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        metrics |= {k: float(v) for k, v in trainer.callback_metrics.items()}
    if cfg.get("test", True) and getattr(datamodule, "has_test", True):  # arrays may have none
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        trainer.test(task, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        metrics |= {k: float(v) for k, v in trainer.callback_metrics.items()}
    return metrics


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
