"""A quiet, useful console for `zoo-train`: every line once, through `logging` (Hydra's
handlers write it to the console and the run's `train.log`), without Lightning's device lines
and product tips, and with no warning about what the zoo already chose on purpose."""

from __future__ import annotations

import logging
import warnings

DROPPED = ("GPU available:", "TPU available:", "HPU available:", "💡 Tip:", "`Trainer.fit` stopped")
"""The starts of Lightning's lines that say nothing about the run (devices it did not use, tips
for its products) or that the zoo says itself once the progress bar is closed (why a fit
stopped: `zoo.training.run.say_why_it_stopped`)."""


class DropVendorNotes(logging.Filter):
    """Keep every record but the lines `DROPPED` names."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(DROPPED)


def quiet_lightning() -> None:
    """Lightning's records go once, through the root logger's handlers (Lightning also gives
    its package a console handler of its own, so each line came twice); its vendor notes go
    nowhere; and the deprecation it raises itself under this torch (`LeafSpec`) is not shown."""
    import lightning  # noqa: F401  (adds the handler that is removed here)

    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        package = logging.getLogger(name)
        package.handlers.clear()
        package.propagate = True
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).addFilter(DropVendorNotes())
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
