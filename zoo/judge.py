"""Judge generated images with a pretrained classifier from the zoo: do they look like some
class, confidently, and do they cover the classes?"""

from __future__ import annotations

import math

import torch


@torch.no_grad()
def judge_samples(images: torch.Tensor, judge: str = "cnn_digits") -> dict[str, float]:
    """`images`: pixels in [0, 1] shaped like the judge's data. Returns `confidence` (mean
    top-class probability), `spread` (entropy of the predicted-class histogram over its
    maximum: 1 when the classes are equally frequent, 0 when all samples fall in one) and
    `share_<k>` (the fraction of samples given to class k)."""
    from zoo.sources import build_data, resolve

    source = resolve(judge)
    net = source.net.eval()
    inputs = build_data(source.data).transform(images.cpu().float())
    probabilities = net.head.predict_proba(net(inputs))
    classes = probabilities.shape[1]
    share = torch.bincount(probabilities.argmax(1), minlength=classes).float() / len(images)
    entropy = -(share * share.clamp_min(1e-12).log()).sum().item()
    return {
        "confidence": probabilities.max(1).values.mean().item(),
        "spread": entropy / math.log(classes),
        **{f"share_{k}": v for k, v in enumerate(share.tolist())},
    }
