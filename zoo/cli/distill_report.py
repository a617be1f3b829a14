"""Teacher and students side by side: test accuracy, parameters and inference latency, with
the compression ratio and speed-up of each model against the first (the teacher).

    zoo-distill-report cnn.digits_teacher mlp.digits_distilled logs/.../last.ckpt
    zoo-distill-report cnn.digits_teacher <students...> --classes 3    # accuracy on 3s
    zoo-distill-report <students...> --classes 3 --raise-bias 3.5

Each model is scored on the test split of the data it was trained with. Latency: the best of
several timed forward passes on this machine, for the whole test split and for one image.
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

import torch
from torch import nn

from zoo.cli.common import markdown_table, or_exit
from zoo.registry.sources import build_data, resolve

if TYPE_CHECKING:
    from zoo.blocks.heads import Head


@dataclass
class Row:
    name: str
    accuracy: float  # on the test split, or on its samples of the chosen classes
    errors: int
    params: int
    batch_ms: float  # one forward pass over the whole test split
    single_ms: float  # one forward pass over one sample
    # with chosen classes: how often one of them is the runner-up on the other samples, the
    # soft-target mass a student whose transfer set lacks them can learn them from
    runner_up: float | None = None


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@torch.inference_mode()
def latency_ms(net: nn.Module, x: torch.Tensor, repeats: int = 5, calls: int = 10) -> float:
    """Milliseconds per forward pass on `x`: the fastest of `repeats` means over `calls`."""
    net.eval()
    net(x)  # warm-up: first-call allocations
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            net(x)
        best = min(best, (time.perf_counter() - start) / calls)
    return 1000 * best


def raise_bias(net: nn.Module, classes: list[int], amount: float) -> nn.Module:
    """A copy of `net` whose head favours `classes` by `amount` logits: Hinton et al.'s fix for
    a student whose transfer set lacked those classes, so that their bias was never tuned."""
    raised = copy.deepcopy(net)
    with torch.no_grad():
        cast("Head", raised.head).linear.bias[classes] += amount
    return raised


@torch.inference_mode()
def measure(
    name: str, net: nn.Module, x: torch.Tensor, y: torch.Tensor, classes: list[int] | None = None
) -> Row:
    """Accuracy of `net`'s predicted classes on (x, y), restricted to `classes` if given; then
    also how often one of `classes` comes second on the samples of the other classes."""
    logits = net.eval()(x)
    predicted = cast("Head", net.head).predict(logits)
    chosen = (
        torch.isin(y, torch.tensor(classes)) if classes else torch.ones_like(y, dtype=torch.bool)
    )
    if not chosen.any():
        raise ValueError(f"no test sample of classes {classes} for {name}")
    correct = predicted[chosen] == y[chosen]
    runner_up = None
    if classes and not chosen.all():
        second = logits[~chosen].topk(2, dim=-1).indices[:, 1]
        runner_up = torch.isin(second, torch.tensor(classes)).float().mean().item()
    return Row(
        name=name,
        accuracy=correct.float().mean().item(),
        errors=int((~correct).sum()),
        params=count_parameters(net),
        batch_ms=latency_ms(net, x),
        single_ms=latency_ms(net, x[:1]),
        runner_up=runner_up,
    )


def times(ratio: float) -> str:
    """A ratio as '16.6x', or '0.08x' below one."""
    return f"{ratio:.2f}x" if ratio < 1 else f"{ratio:.1f}x"


def table(rows: list[Row], classes: list[int] | None = None) -> str:
    """Markdown: one row per model; ratios against the first row."""
    base = rows[0]
    scope = f"acc (classes {', '.join(map(str, classes))})" if classes else "test acc"
    header = ["model", scope, "errors", "params", "compression", "ms / test split", "speed-up"]
    header += ["ms / image", "speed-up"]
    if classes:
        header.append("runner-up on other classes")
    cells = [
        [
            *(
                r.name,
                f"{r.accuracy:.4f}",
                r.errors,
                f"{r.params:,}",
                times(base.params / r.params),
            ),
            *(f"{r.batch_ms:.2f}", times(base.batch_ms / r.batch_ms)),
            *(f"{r.single_ms:.3f}", times(base.single_ms / r.single_ms)),
            *([f"{r.runner_up:.3f}" if r.runner_up is not None else ""] if classes else []),
        ]
        for r in rows
    ]
    return markdown_table(header, cells)


def report_row(source: str, args: argparse.Namespace) -> Row:
    """The row of one model: resolved, its bias raised if asked, measured on its test split."""
    resolved = resolve(source)
    x, y = build_data(resolved.data).load()["test"][:2]
    outputs = getattr(getattr(resolved.net, "head", None), "num_outputs", None)
    if outputs is None:
        raise ValueError(f"{source}: expected a classifier with an output head")
    if args.classes and not all(0 <= c < outputs for c in args.classes):
        raise ValueError(
            f"--classes {args.classes}: expected classes in [0, {outputs}) of {source}"
        )
    net = (
        raise_bias(resolved.net, args.classes, args.raise_bias) if args.raise_bias else resolved.net
    )
    return measure(source, net, x, y, args.classes)


def build_parser() -> argparse.ArgumentParser:
    """The `zoo-distill-report` command line (the documentation is generated from it)."""
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument(
        "sources", nargs="+", help="model names, model directories or .ckpt files; teacher first"
    )
    parser.add_argument(
        "--classes", type=int, nargs="+", default=None, help="score only these classes"
    )
    parser.add_argument(
        "--raise-bias",
        type=float,
        default=0.0,
        help="with --classes: raise every model's output bias for them by this much first",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.raise_bias and not args.classes:
        parser.error("--raise-bias needs --classes")
    rows = [or_exit(partial(report_row, source, args)) for source in args.sources]
    shift = (
        f", output bias of {args.classes} raised by {args.raise_bias}" if args.raise_bias else ""
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads{shift}")
    print(table(rows, args.classes))


if __name__ == "__main__":
    main()
