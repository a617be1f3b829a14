"""`python train.py`'s default run as a lightning-hydra-template style pipeline would do it:
the benchmark's whole-process row for the common way of writing a Lightning project.

    python -m zoo.bench.baselines.template_train OUT_DIR [EPOCHS]

The same work as `zoo.bench.baselines.hand_train` (split, `cnn`, Adam with cosine decay, batch order,
early stopping, best and last checkpoints, CSV log, test on the best weights), written the
template's way: a `Dataset` that transforms each sample in `__getitem__` and a `DataLoader`
that collates them, metrics updated and logged at every step, and Lightning's defaults
(progress bar, model summary, sanity validation steps).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import lightning.pytorch as L
import torch
from torch.utils.data import DataLoader, Dataset
from torchmetrics import Accuracy, MeanMetric

from zoo.bench.steps import EpochOrder  # the zoo's epoch order, so the batches are the same

if TYPE_CHECKING:
    from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig


class DigitsDataset(Dataset):
    """Raw 0-16 digit images, scaled and standardised one sample at a time."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, mean: float, std: float) -> None:
        self.x, self.y, self.mean, self.std = x, y, mean, std

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return (self.x[i] / 16.0 - self.mean) / self.std, self.y[i]


class DigitsModule(L.LightningModule):
    def __init__(self, net: torch.nn.Module, epochs: int) -> None:
        super().__init__()
        self.net, self.epochs = net, epochs
        self.train_acc, self.val_acc, self.test_acc = (
            Accuracy("multiclass", num_classes=10) for _ in range(3)
        )
        self.train_loss = MeanMetric()

    def step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch
        logits = self.net(x)
        return torch.nn.functional.cross_entropy(logits, y), logits.argmax(1)

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        loss, preds = self.step(batch)
        self.train_loss(loss.detach(), len(preds))
        self.train_acc(preds, batch[1])
        self.log("train/loss", self.train_loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train/acc", self.train_acc, on_step=True, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        loss, preds = self.step(batch)
        self.val_acc(preds, batch[1])
        self.log("val/loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val/acc", self.val_acc, on_step=False, on_epoch=True, prog_bar=True)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        loss, preds = self.step(batch)
        self.test_acc(preds, batch[1])
        self.log("test/loss", loss, on_step=False, on_epoch=True)
        self.log("test/acc", self.test_acc, on_step=False, on_epoch=True)

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        optimizer = torch.optim.Adam(self.parameters(), lr=1e-3)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.epochs)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


def main(out: Path, epochs: int = 30) -> None:
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import zoo

    L.seed_everything(0, verbose=False)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target)
    rest, test = train_test_split(torch.arange(len(y)), test_size=0.5, stratify=y, random_state=0)
    train, val = train_test_split(rest, test_size=0.2, stratify=y[rest], random_state=0)
    mean, std = float((x[train] / 16).mean()), float((x[train] / 16).std())
    data = {
        k: DigitsDataset(x[i], y[i], mean, std)
        for k, i in (("train", train), ("val", val), ("test", test))
    }
    module = DigitsModule(zoo.create_model("cnn"), epochs)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        default_root_dir=out,
        logger=CSVLogger(out),
        callbacks=[
            ModelCheckpoint(out / "checkpoints", monitor="val/loss", save_last=True),
            EarlyStopping(monitor="val/loss", patience=10),
        ],
    )
    trainer.fit(
        module,
        # its own generator: the loader's per-epoch seed must not shift the dropout stream
        DataLoader(
            data["train"],
            batch_size=64,
            sampler=EpochOrder(len(train)),
            generator=torch.Generator(),
        ),
        DataLoader(data["val"], batch_size=1024),
    )
    trainer.test(module, DataLoader(data["test"], batch_size=1024), ckpt_path="best", verbose=False)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if "/" in k}
    (out / "metrics.json").write_text(json.dumps(metrics))


if __name__ == "__main__":
    main(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:3]))
