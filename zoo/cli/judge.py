"""Judge generated images with a pretrained classifier from the zoo: do they look like some
class, confidently, and do they cover the classes?

    zoo-judge gan.digits                  # 1000 samples, judged by cnn.digits
"""

from __future__ import annotations

import argparse
from typing import Protocol, cast

import torch

from zoo.analysis.judge import judge_samples
from zoo.cli.common import SOURCE_HELP, fail, markdown_table, or_exit, positive_int


class Sampler(Protocol):
    """A generative model: `sample(count, generator)` -> `count` samples."""

    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor: ...


def build_parser() -> argparse.ArgumentParser:
    """The `zoo-judge` command line (the documentation is generated from it)."""
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("source", help=f"a model with .sample(n): {SOURCE_HELP}")
    parser.add_argument("--judge", default="cnn.digits", help="the classifier that judges")
    parser.add_argument("--samples", type=positive_int, default=1000)
    return parser


def main(argv: list[str] | None = None) -> None:
    from zoo.registry import load_model

    args = build_parser().parse_args(argv)
    net, judge = or_exit(lambda: (load_model(args.source), load_model(args.judge)))
    if not hasattr(net, "sample"):
        fail(f"{args.source} cannot sample (no .sample method): expected a generative model")
    samples = cast(Sampler, net).sample(args.samples, torch.Generator().manual_seed(0))
    verdict = or_exit(lambda: judge_samples(samples, judge))
    shares = verdict["shares"]
    print(
        f"judged by {args.judge}: confidence {verdict['confidence']:.3f}, "
        f"spread {verdict['spread']:.3f}"
    )
    print(markdown_table(["class", *map(str, range(len(shares)))], [["share", *shares]]))


if __name__ == "__main__":
    main()
