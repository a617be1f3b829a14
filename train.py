"""Train a zoo model: `python train.py experiment=cnn_digits optimizer.lr=3e-3`.

Only hydra is imported here, so `--help` and `--cfg job` answer at once; torch, lightning
and the zoo are imported once a run really starts.
"""

import os
import sys

import hydra
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from hydra.errors import InstantiationException

    from zoo.config import ConfigError
    from zoo.run import optimized_metric, train

    try:
        metrics = train(cfg)
        value = optimized_metric(cfg, metrics)
    except (ConfigError, InstantiationException) as error:
        sys.exit(f"config error: {' '.join(str(error).split())}")
    if os.environ.get("LOCAL_RANK", "0") == "0":  # DDP runs this in every process
        print(" ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())))
    return value


if __name__ == "__main__":
    main()
