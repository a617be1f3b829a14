"""Exact match of a seq2seq model by source length: how far it extrapolates.

zoo-seq2seq-report seq2seq.reverse_attention     # or a directory / .ckpt
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Protocol, cast

import torch
from torch import nn

from zoo.cli.common import SOURCE_HELP, markdown_table, or_exit
from zoo.registry.sources import build_data, resolve
from zoo.tasks.seq2seq import exact_match

BUCKETS = ((4, 8), (9, 12), (13, 16), (17, 20))


class Decoder(Protocol):
    """A seq2seq model (`zoo.patterns.seq2seq`, `zoo.patterns.transformer_seq2seq`): greedy
    decoding -> (tokens (N, steps), attention weights or None)."""

    def greedy(
        self, source: torch.Tensor, lengths: torch.Tensor, steps: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]: ...


class CrossAttending(Protocol):
    """A transformer seq2seq model: its teacher-forced cross-attention (N, layers, H, T, S)."""

    def cross_attention(
        self, source: torch.Tensor, lengths: torch.Tensor, target_in: torch.Tensor
    ) -> torch.Tensor: ...


@torch.no_grad()
def exact_by_length(
    net: nn.Module,
    split: tuple[torch.Tensor, ...],
    buckets: Iterable[tuple[int, int]] = BUCKETS,
) -> dict[str, float]:
    """{"4-8": exact match, ...} over the samples whose source length lies in each bucket."""
    source, lengths, _, target_out = split
    predicted, _ = cast(Decoder, net.eval()).greedy(source, lengths, target_out.shape[1])
    correct = exact_match(predicted, target_out)
    report = {}
    for low, high in buckets:
        inside = (lengths >= low) & (lengths <= high)
        if inside.any():
            report[f"{low}-{high}"] = correct[inside].float().mean().item()
    return report


@torch.no_grad()
def anti_diagonal_mass(net: nn.Module, split: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """(layers, heads): the share of each cross-attention head's weight that output step t of
    a reversed string puts on source position length - 1 - t, averaged over steps and strings."""
    source, lengths, target_in, _ = split
    model = cast(CrossAttending, net.eval())
    weights = model.cross_attention(source, lengths, target_in)  # (N, layers, H, T, S)
    steps = torch.arange(source.shape[1], device=source.device)
    inside = steps[None] < lengths[:, None]  # (N, S): the output steps that emit a symbol
    mirror = (lengths[:, None] - 1 - steps[None]).clamp(min=0)  # (N, T)
    on_diagonal = weights[..., : source.shape[1], :].gather(
        -1, mirror[:, None, None, :, None].expand(*weights.shape[:3], -1, 1)
    )[..., 0]  # (N, layers, H, T)
    mask = inside[:, None, None].float()
    return (on_diagonal * mask).sum((0, 3)) / mask.sum((0, 3))


def report_of(source: str) -> dict[str, float]:
    """`exact_by_length` of a seq2seq model on the test split of its own data."""
    resolved = resolve(source)
    if not hasattr(resolved.net, "greedy"):
        raise ValueError(f"{source}: expected a seq2seq model (one that decodes with .greedy)")
    return exact_by_length(resolved.net, build_data(resolved.data).load()["test"])


def build_parser() -> argparse.ArgumentParser:
    """The `zoo-seq2seq-report` command line (the documentation is generated from it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help=SOURCE_HELP)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    report = or_exit(lambda: report_of(args.source))
    print(markdown_table(["source length", *report], [["exact match", *report.values()]]))


if __name__ == "__main__":
    main()
