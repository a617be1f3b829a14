"""What every `zoo-train` run gets, whatever its callbacks config: a graceful stop on SIGTERM
or Ctrl-C (a resumable checkpoint and the command that resumes it), and an immediate stop on a
non-finite training loss."""

from __future__ import annotations

import math
import os
import signal
import threading
from pathlib import Path
from typing import Any, cast

import lightning.pytorch as L
import torch
from lightning.pytorch.utilities.exceptions import SIGTERMException

from zoo.utils.errors import TrainingStopped


class GracefulStop(L.Callback):
    """On SIGTERM (what a scheduler sends before preemption) or Ctrl-C, finish the current
    batch and write `checkpoint`; `stopped` then gives the error to report. With `save_at_end`
    (a run whose callbacks keep a last checkpoint) a run that ends normally writes it too.

    Lightning turns SIGTERM into a stop after the batch; Ctrl-C is sent on as SIGTERM so that it
    stops at the same clean point instead of inside an optimizer step. The data order and the
    random streams are in the checkpoint, so a resumed run goes on as if never stopped."""

    def __init__(self, checkpoint: str | Path, save_at_end: bool = False) -> None:
        self.checkpoint, self.save_at_end = Path(checkpoint), save_at_end
        self.signal: int | None = None
        self.previous_sigint: Any = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous_sigint = signal.signal(signal.SIGINT, self._forward_as_sigterm)

    def _forward_as_sigterm(self, signum: int, _frame: Any) -> None:
        self.signal = self.signal or signum
        os.kill(os.getpid(), signal.SIGTERM)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """The finished run's state, to test from or train on (`trainer.max_epochs` raised)."""
        if self.save_at_end and not cast(Any, trainer).fast_dev_run:  # set at run time, undeclared
            trainer.save_checkpoint(self.checkpoint, weights_only=False)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if isinstance(exception, SIGTERMException):
            trainer.save_checkpoint(self.checkpoint, weights_only=False)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.previous_sigint is not None:
            signal.signal(signal.SIGINT, self.previous_sigint)
            self.previous_sigint = None

    def stopped(self, trainer: L.Trainer, resume_command: str) -> TrainingStopped:
        """The error that reports the stop: where it happened and how to resume."""
        name = signal.Signals(self.signal or signal.SIGTERM).name
        step = f"epoch {trainer.current_epoch}, step {trainer.global_step}"
        return TrainingStopped(
            f"stopped by {name} at {step}; resume with: {resume_command}",
            exit_code=128 + (self.signal or signal.SIGTERM),
        )


class StopOnNonFiniteLoss(L.Callback):
    """Stop at the first training batch whose loss is NaN or infinite, before any checkpoint
    holds the weights it produced.

    On the CPU every batch's loss is checked. On an accelerator, reading a loss forces a
    device sync, so the epoch's running loss sum (any bad batch makes it non-finite) is read
    every `log_every_n_steps` steps and before validation, which precedes every checkpoint."""

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        on_cpu = isinstance(loss, torch.Tensor) and loss.device.type == "cpu"
        if not on_cpu:  # manual optimization, or an accelerator: the epoch's running sum
            every: int = cast(Any, trainer).log_every_n_steps  # set at run time, undeclared
            if trainer.global_step % max(every, 1):
                return
            loss = getattr(pl_module, "train_loss_sum", None)
        self.check(trainer, loss, f"batch {batch_idx}")

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == "fit":
            self.check(trainer, getattr(pl_module, "train_loss_sum", None), "before validation")

    @staticmethod
    def check(trainer: L.Trainer, loss: Any, where: str) -> None:
        if isinstance(loss, torch.Tensor) and not math.isfinite(
            value := float(loss.detach().sum())
        ):
            raise TrainingStopped(
                f"non-finite training loss {value} at epoch {trainer.current_epoch}, step "
                f"{trainer.global_step} ({where}); no checkpoint was written with these "
                "weights: lower optimizer.lr or check the data"
            )
