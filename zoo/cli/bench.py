"""Training-step cost of the zoo's stack, as ratios to a hand loop measured in the same run.

    python -m zoo.bench [--epochs 20]

Model: `experiment=mlp_digits` (64-128-128-10 MLP, Adam, batch 64), built from the config for
every row. Baseline (1.00): a plain PyTorch loop slicing batches from resident tensors. Rows:
the same loop over `TensorBatches` and over `DataLoader(TensorDataset)`, and `train.py`'s
Lightning stack, lean and with the experiment's defaults. A second table times a step of
`experiment=distill_small_digits` with the teacher run at every step (baseline) and with its outputs
cached once (`task.cache_teacher=true`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterable

import torch
from omegaconf import DictConfig

from zoo.cli.common import markdown_table, positive_int


def hand_loop(cfg: DictConfig, batches: Callable[[], Iterable], epochs: int) -> float:
    """ms per step of forward, the head's loss, backward and Adam over `batches()` each epoch."""
    from hydra.utils import instantiate

    net = instantiate(cfg.model)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    steps, start = 0, time.perf_counter()
    for _ in range(epochs):
        for x, y in batches():
            opt.zero_grad(set_to_none=True)
            net.head.loss(net(x), y).backward()
            opt.step()
            steps += 1
    return 1000 * (time.perf_counter() - start) / steps


def resident_slices(x: torch.Tensor, y: torch.Tensor, batch: int) -> Callable[[], Iterable]:
    def batches():
        order = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            index = order[i : i + batch]
            yield x[index], y[index]

    return batches


def lightning_run(overrides: list[str], epochs: int) -> float:
    """ms per training step of train.py's stack (fit only, validation included as configured)."""
    from zoo.cli.run import build, compose

    with tempfile.TemporaryDirectory() as out:
        cfg = compose([*overrides, f"trainer.max_epochs={epochs}"], out)
        datamodule, task, trainer = build(cfg)
        start = time.perf_counter()
        trainer.fit(task, datamodule=datamodule)
        elapsed = time.perf_counter() - start
    return 1000 * elapsed / trainer.global_step


def best_of(setups: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """The fastest of `repeats` measurements per row, interleaved so that a slow spell of the
    machine hits every row."""
    rows = {name: float("inf") for name in setups}
    for _ in range(repeats):
        for name, measure in setups.items():
            rows[name] = min(rows[name], measure())
    return rows


def print_table(rows: dict[str, float]) -> None:
    """ms per step and the ratio to the first row."""
    base = next(iter(rows.values()))
    cells = [[name, f"{ms:.3f}", f"{ms / base:.2f}"] for name, ms in rows.items()]
    print(markdown_table(["setup", "ms/step", "ratio"], cells))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=positive_int, default=30, help="epochs per measurement")
    parser.add_argument(
        "--repeats", type=positive_int, default=3, help="measurements per row; the fastest is kept"
    )
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    from hydra.utils import instantiate
    from torch.utils.data import DataLoader, TensorDataset

    from zoo.cli.run import compose
    from zoo.data import TensorBatches

    common = ["experiment=mlp_digits", "scheduler=none", "trainer.enable_progress_bar=false"]
    cfg = compose(common, tempfile.gettempdir())
    x, y = instantiate(cfg.data).load()["train"]
    lean = [
        *common,
        "callbacks=none",
        "logger=none",
        "trainer.enable_checkpointing=false",
        "trainer.check_val_every_n_epoch=1000",
    ]
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    tensor_batches = TensorBatches(x, y, batch_size=64, shuffle=True)
    lightning_run(lean, 1)  # first Trainer in a process pays one-off set-up costs
    hand_loop(cfg, resident_slices(x, y, 64), 2)  # warm-up
    setups: dict[str, Callable[[], float]] = {
        "hand loop, resident tensors (baseline)": lambda: hand_loop(
            cfg, resident_slices(x, y, 64), args.epochs
        ),
        "hand loop, zoo TensorBatches": lambda: hand_loop(cfg, lambda: tensor_batches, args.epochs),
        "hand loop, DataLoader(TensorDataset)": lambda: hand_loop(cfg, lambda: loader, args.epochs),
        "train.py lean (no val, ckpt, logger, bar)": lambda: lightning_run(lean, args.epochs),
        "train.py experiment=mlp_digits defaults": lambda: lightning_run(
            [*common, "callbacks.progress_bar=null"], args.epochs
        ),
    }
    rows = best_of(setups, args.repeats)
    print(
        f"digits MLP, batch 64, {args.epochs} epochs, best of {args.repeats}, torch {torch.__version__}"
    )
    print_table(rows)

    distill = ["experiment=distill_small_digits", *lean[1:]]
    rows = best_of(
        {
            "teacher run at every step (baseline)": lambda: lightning_run(
                [*distill, "task.cache_teacher=false"], args.epochs
            ),
            "teacher outputs cached once (cache_teacher)": lambda: lightning_run(
                [*distill, "task.cache_teacher=true"], args.epochs
            ),
        },
        args.repeats,
    )
    print("\ndistill_small_digits: cnn.digits_teacher -> 2 x 30 MLP student, train.py lean")
    print_table(rows)


if __name__ == "__main__":
    main()
