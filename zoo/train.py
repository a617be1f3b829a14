"""Train a zoo model: `zoo-train experiment=cnn_digits optimizer.lr=3e-3` (also
`python -m zoo.train`, or `python train.py` in a clone).

Only hydra is imported here, so `--help` and `--cfg job` answer at once; torch, lightning
and the rest of the zoo are imported once a run really starts. The configs ship inside the
package (`zoo/conf`); add your own with `--config-dir my_conf` (see the README).
"""

from __future__ import annotations

import os
import sys

import hydra
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    from hydra.errors import InstantiationException

    from zoo.cli.checks import ConfigError
    from zoo.cli.run import optimized_metric, train

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
