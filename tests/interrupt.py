"""A callback for kill/resume tests: the training process sends itself a real signal at a
given batch (`+callbacks.signal._target_=interrupt.SignalAt`, with tests/ on PYTHONPATH)."""

import os
import signal

import lightning.pytorch as L


class SignalAt(L.Callback):
    """Send `signal_name` (KILL, TERM, INT) to this process after training batch `batch` of
    epoch `epoch`; a run resumed past that point never sends it."""

    def __init__(self, epoch: int, batch: int, signal_name: str = "KILL") -> None:
        self.epoch, self.batch = epoch, batch
        self.signum = signal.Signals[f"SIG{signal_name}"]

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            os.kill(os.getpid(), self.signum)
