"""Judge generated images with a pretrained classifier: do they look like some class,
confidently, and do they cover the classes?"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

from zoo.utils.preprocessing import normalize

if TYPE_CHECKING:
    from zoo.blocks.heads import Head


@torch.no_grad()
def judge_samples(images: torch.Tensor, judge: nn.Module) -> dict[str, Any]:
    """`images`: pixels in [0, 1] shaped like the judge's inputs; `judge`: a classifier with a
    `head` and a preprocessing record (`pretrained_cfg`, as `zoo.load_model` gives).

    Returns `confidence` (mean top-class probability), `spread` (entropy of the predicted-class
    histogram over its maximum: 1 when the classes are equally frequent, 0 when all samples
    fall in one) and `shares` (the fraction of samples given to each class)."""
    record = getattr(judge, "pretrained_cfg", None)
    if record is None:
        raise ValueError(
            f"the judge ({type(judge).__name__}) has no pretrained_cfg: load it with "
            "zoo.load_model so its preprocessing comes with it"
        )
    judge = judge.eval()
    inputs = normalize(images.float(), record).to(next(judge.parameters()).device)
    probabilities = cast("Head", judge.head).predict_proba(judge(inputs))
    classes = probabilities.shape[1]
    share = torch.bincount(probabilities.argmax(1), minlength=classes).float() / len(images)
    entropy = -(share * share.clamp_min(1e-12).log()).sum().item()
    return {
        "confidence": probabilities.max(1).values.mean().item(),
        "spread": entropy / math.log(classes),
        "shares": share.tolist(),
    }
