"""Judge generated images with a pretrained classifier from the zoo: do they look like some
class, confidently, and do they cover the classes?

    python -m zoo.judge gan_digits                  # 1000 samples, judged by cnn_digits
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import torch


@torch.no_grad()
def judge_samples(images: torch.Tensor, judge: str = "cnn_digits") -> dict[str, Any]:
    """`images`: pixels in [0, 1] shaped like the judge's data. Returns `confidence` (mean
    top-class probability), `spread` (entropy of the predicted-class histogram over its
    maximum: 1 when the classes are equally frequent, 0 when all samples fall in one) and
    `shares` (the fraction of samples given to each class)."""
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
        "shares": share.tolist(),
    }


def main(argv: list[str] | None = None) -> None:
    from zoo.sources import resolve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a model with .sample(n): name, directory or .ckpt")
    parser.add_argument("--judge", default="cnn_digits", help="the classifier that judges")
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args(argv)
    try:
        net = resolve(args.source).net
    except (KeyError, ValueError, FileNotFoundError, RuntimeError) as error:
        raise SystemExit(f"error: {error}") from None
    if not hasattr(net, "sample"):
        raise SystemExit(f"error: {args.source} cannot sample (no .sample method)")
    samples = net.eval().sample(args.samples, torch.Generator().manual_seed(0))
    verdict = judge_samples(samples, args.judge)
    shares = verdict["shares"]
    print(
        f"judged by {args.judge}: confidence {verdict['confidence']:.3f}, spread {verdict['spread']:.3f}"
    )
    print("| class | " + " | ".join(map(str, range(len(shares)))) + " |")
    print("|---|" + "---|" * len(shares))
    print("| share | " + " | ".join(f"{v:.3f}" for v in shares) + " |")


if __name__ == "__main__":
    main()
