"""The generalisation gap: a classifier's loss on its own training split, measured as the
validation loss is (eval mode, clean inputs), next to the validation and test losses. Learning
is not only optimising: a global minimum of the training loss can be overfitting."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import lightning.pytorch as L
import torch

from zoo.callbacks.figures import save
from zoo.utils.figure_layout import OUTSIDE_RIGHT, whole_numbers
from zoo.utils.plots import pyplot

if TYPE_CHECKING:
    from zoo.blocks.heads import Head


@torch.no_grad()
def split_loss_and_accuracy(
    net: torch.nn.Module, split: tuple[torch.Tensor, ...]
) -> tuple[float, float]:
    """(loss, accuracy) of `net` (eval mode, no dropout, no augmentation) on a whole split."""
    *inputs, y = split
    was_training = net.training
    net.eval()
    logits = net(*inputs)
    net.train(was_training)
    head = cast("Head", net.head)
    loss = head.loss(logits, y)
    return loss.item(), (head.predict(logits) == y).float().mean().item()


class GeneralizationGap(L.Callback):
    """Logs `train_eval/loss` and `train_eval/acc` (the training split, evaluated as the
    validation split is) every validation epoch, and at test time `test/train_loss`,
    `test/train_acc` and `test/gap` (test loss - training loss, the weights under test). At
    the end of the fit it writes `overfit.png`: both losses by epoch."""

    def __init__(self, filename: str = "overfit.png") -> None:
        self.filename = filename
        self.curves: dict[str, list[float]] = {"train": [], "val": []}

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = cast(Any, trainer).datamodule  # set by Lightning at run time, undeclared
        if not hasattr(datamodule, "training_tensors"):
            raise TypeError(
                f"GeneralizationGap needs in-memory data, got {type(datamodule).__name__}"
            )

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        net, datamodule = cast(torch.nn.Module, pl_module.net), cast(Any, trainer).datamodule
        loss, acc = split_loss_and_accuracy(net, datamodule.splits["train"])
        pl_module.log_dict({"train_eval/loss": loss, "train_eval/acc": acc})
        self.curves["train"].append(loss)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if "val/loss" in trainer.callback_metrics and len(self.curves["val"]) < len(
            self.curves["train"]
        ):
            self.curves["val"].append(float(trainer.callback_metrics["val/loss"]))

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        net, datamodule = cast(torch.nn.Module, pl_module.net), cast(Any, trainer).datamodule
        train_loss, train_acc = split_loss_and_accuracy(net, datamodule.splits["train"])
        test_loss, _ = split_loss_and_accuracy(net, datamodule.splits["test"])
        pl_module.log_dict(
            {
                "test/train_loss": train_loss,
                "test/train_acc": train_acc,
                "test/gap": test_loss - train_loss,
            }
        )

    def state_dict(self) -> dict[str, list[float]]:  # a resumed run draws its whole curves
        return self.curves

    def load_state_dict(self, state_dict: dict[str, list[float]]) -> None:
        self.curves = {k: list(v) for k, v in state_dict.items()}

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero and self.curves["train"]:
            path = Path(trainer.default_root_dir) / self.filename
            save(overfit_figure(self.curves["train"], self.curves["val"]), path)


def overfit_figure(train: list[float], val: list[float]) -> Any:
    """Training-split and validation loss by epoch, on a log scale."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
    ax.plot(range(1, len(train) + 1), train, label="training split\n(eval mode)")
    ax.plot(range(1, len(val) + 1), val, label="validation split")
    ax.set(
        xlabel="epoch",
        ylabel="cross-entropy (nats, log scale)",
        yscale="log",
        title="loss on the training and validation splits",
    )
    ax.xaxis.set_major_locator(whole_numbers())
    ax.legend(**OUTSIDE_RIGHT)
    return fig
