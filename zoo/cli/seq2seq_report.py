"""Exact match of a seq2seq model by source length: how far it extrapolates.

zoo-seq2seq-report seq2seq.reverse_attention     # or a directory / .ckpt
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from zoo.cli.common import SOURCE_HELP, markdown_table, or_exit
from zoo.cli.sources import build_data, resolve
from zoo.tasks.seq2seq import exact_match

BUCKETS = ((4, 8), (9, 12), (13, 16), (17, 20))


@torch.no_grad()
def exact_by_length(
    net: nn.Module, split: tuple[torch.Tensor, ...], buckets=BUCKETS
) -> dict[str, float]:
    """{"4-8": exact match, ...} over the samples whose source length lies in each bucket."""
    source, lengths, _, target_out = split
    predicted, _ = net.eval().greedy(source, lengths, target_out.shape[1])
    correct = exact_match(predicted, target_out)
    report = {}
    for low, high in buckets:
        inside = (lengths >= low) & (lengths <= high)
        if inside.any():
            report[f"{low}-{high}"] = correct[inside].float().mean().item()
    return report


def report_of(source: str) -> dict[str, float]:
    """`exact_by_length` of a seq2seq model on the test split of its own data."""
    resolved = resolve(source)
    if not hasattr(resolved.net, "greedy"):
        raise ValueError(f"{source}: expected a seq2seq model (one that decodes with .greedy)")
    return exact_by_length(resolved.net, build_data(resolved.data).load()["test"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help=SOURCE_HELP)
    args = parser.parse_args(argv)
    report = or_exit(lambda: report_of(args.source))
    print(markdown_table(["source length", *report], [["exact match", *report.values()]]))


if __name__ == "__main__":
    main()
