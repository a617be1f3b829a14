"""Robust accuracy of classifiers under random sign noise, FGSM and PGD (`zoo.analysis.attacks`)
at several epsilons, as a markdown table and a plot.

The test split is preprocessed, and the valid input range found, from the record each model
carries (`model.pretrained_cfg`); epsilon is an L-inf radius in pixel units.

    zoo-adversarial cnn.digits cnn.digits_adversarial   # robust accuracy vs epsilon + plot
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import Any, cast

import torch

from zoo.analysis.attacks import robust_accuracy
from zoo.cli.common import SOURCE_HELP, fraction, markdown_table, or_exit, positive_int
from zoo.utils.figure_layout import OUTSIDE_RIGHT
from zoo.utils.plots import pyplot
from zoo.utils.preprocessing import PretrainedRecord, input_range, normalize


def curves_figure(results: dict[str, dict[str, list[float]]], epsilons: list[float]) -> Any:
    """Accuracy against epsilon: one colour per model, one line style per perturbation."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    styles = {"noise": ":", "fgsm": "--", "pgd": "-"}
    for i, (name, curves) in enumerate(results.items()):
        for kind, values in curves.items():
            ax.plot(
                epsilons, values, styles[kind], color=f"C{i}", marker="o", label=f"{name} {kind}"
            )
    ax.set(
        xlabel="epsilon (L-inf, fraction of the pixel range)",
        ylabel="test accuracy (fraction correct)",
        title="accuracy under perturbations of growing size",
    )
    ax.legend(title="model and perturbation", fontsize=7, **OUTSIDE_RIGHT)
    return fig


def plot_curves(
    results: dict[str, dict[str, list[float]]], epsilons: list[float], path: Path
) -> Path:
    """`curves_figure`, written to `path`."""
    fig = curves_figure(results, epsilons)
    fig.savefig(path, dpi=120)
    pyplot().close(fig)
    return path


def held_out_inputs(source: str) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """The model and the test split of its data, preprocessed by the model's own record."""
    from zoo.registry.sources import build_data, resolve

    resolved = resolve(source)
    x, y = build_data(resolved.data).load_unit()["test"][:2]
    return resolved.net, normalize(x, cast(PretrainedRecord, resolved.net.pretrained_cfg)), y


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", help=SOURCE_HELP + " (one or more)")
    parser.add_argument(
        "--epsilons", type=fraction, nargs="+", default=[0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
    )
    parser.add_argument("--steps", type=positive_int, default=10, help="PGD steps")
    parser.add_argument("--out", type=Path, default=Path("robust_accuracy.png"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    results = {}
    for source in args.sources:
        net, x, y = or_exit(partial(held_out_inputs, source))
        low, high = input_range(cast(PretrainedRecord, net.pretrained_cfg))
        results[source] = robust_accuracy(net, x, y, args.epsilons, low, high, args.steps)
    rows = [
        [name, kind, *values] for name, curves in results.items() for kind, values in curves.items()
    ]
    print(markdown_table(["model", "perturbation", *(f"eps {e:g}" for e in args.epsilons)], rows))
    print(f"plot: {plot_curves(results, args.epsilons, args.out)}")


if __name__ == "__main__":
    main()
