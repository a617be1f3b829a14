"""The console's progress bar: one line for the whole fit, the epoch's validation metrics
shown on it, instead of a validation bar drawn again under it every epoch."""

from __future__ import annotations

from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm


class EpochProgressBar(TQDMProgressBar):
    """Lightning's TQDM bar without a validation bar during `fit` (in-memory validation takes
    milliseconds, and its metrics appear on the training bar); `validate` keeps its own."""

    def init_validation_tqdm(self) -> Tqdm:
        if self.trainer.state.fn == "fit":
            return Tqdm(disable=True)
        return super().init_validation_tqdm()
