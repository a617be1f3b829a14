"""Adversarial examples: backpropagation to the input (Szegedy et al. 2014). FGSM takes one step
along the sign of the input gradient (Goodfellow et al. 2015); PGD iterates it, projected back
into the epsilon ball (Madry et al. 2018). Works on any classifier whose `head` has a `loss`.

Inputs are the model's (standardised) inputs; `low` and `high` are what pixel values 0 and 1
map to (`InMemoryDataModule.input_range()`), and epsilon is an L-inf radius in pixel units:
0.1 moves every pixel by at most a tenth of the full intensity range.

    python -m zoo.cli.adversarial cnn_digits adversarial_digits   # robust accuracy vs epsilon + plot
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from zoo.analysis.attacks import robust_accuracy
from zoo.plots import pyplot


def plot_curves(
    results: dict[str, dict[str, list[float]]], epsilons: list[float], path: Path
) -> Path:
    """Accuracy against epsilon: one colour per model, one line style per perturbation."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 4))
    styles = {"noise": ":", "fgsm": "--", "pgd": "-"}
    for i, (name, curves) in enumerate(results.items()):
        for kind, values in curves.items():
            ax.plot(
                epsilons, values, styles[kind], color=f"C{i}", marker="o", label=f"{name} {kind}"
            )
    ax.set(xlabel="epsilon (L-inf, fraction of the pixel range)", ylabel="test accuracy")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    from zoo.cli.sources import build_data, resolve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", help="model names, model directories or .ckpt files")
    parser.add_argument(
        "--epsilons", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.15, 0.2, 0.3]
    )
    parser.add_argument("--steps", type=int, default=10, help="PGD steps")
    parser.add_argument("--out", type=Path, default=Path("robust_accuracy.png"))
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    results = {}
    for source in args.sources:
        try:
            resolved = resolve(source)
        except (KeyError, ValueError, FileNotFoundError, RuntimeError) as error:
            raise SystemExit(f"error: {error}") from None
        datamodule = build_data(resolved.data)
        x, y = datamodule.load()["test"][:2]
        low, high = datamodule.input_range()
        results[source] = robust_accuracy(resolved.net, x, y, args.epsilons, low, high, args.steps)
    print("| model | perturbation | " + " | ".join(f"eps {e:g}" for e in args.epsilons) + " |")
    print("|---|---|" + "---|" * len(args.epsilons))
    for name, curves in results.items():
        for kind, values in curves.items():
            print(f"| {name} | {kind} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    print(f"plot: {plot_curves(results, args.epsilons, args.out)}")


if __name__ == "__main__":
    main()
