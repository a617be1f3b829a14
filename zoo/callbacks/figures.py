"""Figures a run writes next to its checkpoints: reconstructions, latent maps and samples of
encoder-decoders, attention maps, embeddings, task weights, generated samples, what an
initialisation does to a deep net."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import lightning.pytorch as L
import torch

from zoo.patterns.seq2seq import BOS
from zoo.utils.figure_layout import OUTSIDE_RIGHT, whole_numbers
from zoo.utils.plots import pyplot

if TYPE_CHECKING:
    from zoo.tasks.multitask import MultiTaskTask

# Lightning sets `trainer.datamodule` at run time without declaring it, and a task's `net` is
# whatever model the config built (told apart below by its methods, `hasattr`): the callbacks
# read both as `Any` where they use attributes that `Trainer` and `nn.Module` do not declare.


class _Sampler(Protocol):
    """A generative net (a VAE, a GAN, a PixelCNN): `sample(count, generator)` draws images."""

    def sample(self, count: int, generator: torch.Generator | None = None, /) -> torch.Tensor: ...


GAP_COLOUR = "#c6d4e1"  # between tiles: neither ink nor blank, so each image stands apart


def _grid(ax, images: torch.Tensor, rows: int, gap: int = 1) -> None:
    """Tile (N, 1, H, W) images into `rows` rows on one axis, `gap` pixels apart, so that
    neighbouring images do not merge into strips."""
    n, _, h, w = images.shape
    cols = n // rows
    canvas = torch.full((rows * (h + gap) - gap, cols * (w + gap) - gap), float("nan"))
    for i, image in enumerate(images[: rows * cols, 0].float().cpu()):
        top, left = (i // cols) * (h + gap), (i % cols) * (w + gap)
        canvas[top : top + h, left : left + w] = image
    cmap = pyplot().get_cmap("gray_r").with_extremes(bad=GAP_COLOUR)
    ax.imshow(canvas.numpy(), cmap=cmap, vmin=0, vmax=1)
    ax.axis("off")


def samples_figure(samples: torch.Tensor, rows: int = 4) -> Any:
    """Generated images (N, 1, H, W) in `rows` rows, apart from each other, titled."""
    plt = pyplot()
    cols = len(samples) // rows
    size = (max(cols * 0.6, 3.6), rows * 0.6 + 0.4)
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    _grid(ax, samples, rows)
    ax.set_title(f"{len(samples)} samples from the model (fixed seed)")
    return fig


def save_samples(net: torch.nn.Module, path: Path, count: int = 32, rows: int = 4) -> None:
    """`count` images from `net.sample` (a VAE, a GAN, a PixelCNN), drawn with a fixed seed,
    in `rows` rows."""
    device = next(net.parameters()).device
    samples = cast(_Sampler, net).sample(count, torch.Generator(device=device).manual_seed(0))
    save(samples_figure(samples, rows), path)


def save(fig: Any, path: Path) -> None:
    """Write `fig` to `path` and free it."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(fig)


def reconstructions_figure(x: torch.Tensor, reconstructions: torch.Tensor) -> Any:
    """Test images (top row) over their reconstructions (bottom row), each row titled."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(max(len(x) / 2, 3), 1.9), layout="constrained")
    _grid(axes[0], x, 1)
    axes[0].set_title("input: test images", fontsize=9)
    _grid(axes[1], reconstructions, 1)
    axes[1].set_title("output: their reconstructions", fontsize=9)
    fig.suptitle("Reconstructions")
    return fig


def latent_figure(points: torch.Tensor, labels: torch.Tensor) -> Any:
    """Codes (N, 2) coloured by class, with a colour bar naming the classes."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    scatter = ax.scatter(*points.T.cpu().numpy(), c=labels.cpu().numpy(), cmap="tab10", s=6)
    ax.set(xlabel="z[0]", ylabel="z[1]", title="test codes by class (first two dimensions)")
    fig.colorbar(scatter, ax=ax, label="class")
    return fig


class EncoderDecoderFigures(L.Callback):
    """On test end, write `reconstructions.png`, `latent_map.png` and (for a VAE) `samples.png`
    into the run directory, from the first `count` test images."""

    def __init__(self, count: int = 16) -> None:
        self.count = count

    @torch.no_grad()
    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        net: Any = cast(torch.nn.Module, pl_module.net).eval()
        out_dir = Path(trainer.default_root_dir)
        x, y, *_ = cast(Any, trainer).datamodule.splits["test"]
        is_vae = hasattr(net, "sample")
        codes = net.encode(x)[0] if is_vae else net.encode(x)
        reconstructions = net.decode(codes[: self.count])
        if is_vae and net.likelihood == "bernoulli":
            reconstructions = torch.sigmoid(reconstructions)

        save(
            reconstructions_figure(x[: self.count], reconstructions),
            out_dir / "reconstructions.png",
        )
        points = (
            codes[:, :2] if codes.shape[1] >= 2 else torch.cat([codes, torch.zeros_like(codes)], 1)
        )
        save(latent_figure(points, y), out_dir / "latent_map.png")

        if is_vae:
            save_samples(net, out_dir / "samples.png")


class AttentionFigure(L.Callback):
    """On test end, write `attention.png`: where the decoder looked in the source at each
    output step, for the first test sequence of at least `min_length` symbols; for a model with
    several cross-attention heads (`net.cross_attention`), every head of every layer."""

    def __init__(self, min_length: int = 12) -> None:
        self.min_length = min_length

    @torch.no_grad()
    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        net: Any = cast(torch.nn.Module, pl_module.net).eval()
        if not trainer.is_global_zero or net.attention_kind is None:
            return

        source, lengths, *_ = cast(Any, trainer).datamodule.splits["test"]
        long_enough = (lengths >= self.min_length).nonzero()
        i = int(long_enough[0, 0]) if len(long_enough) else 0
        n = int(lengths[i])
        tokens, weights = net.greedy(source[i : i + 1], lengths[i : i + 1], n + 1)
        if hasattr(net, "cross_attention"):  # each head along the decoded path
            decoded_in = torch.cat([torch.full_like(tokens[:, :1], BOS), tokens[:, :-1]], 1)
            heads = net.cross_attention(source[i : i + 1], lengths[i : i + 1], decoded_in)
            figure = heads_attention_figure(heads[0, ..., :n], source[i, :n], tokens[0])
        else:
            figure = attention_figure(weights[0, :, :n], source[i, :n], tokens[0])
        save(figure, Path(trainer.default_root_dir) / "attention.png")


class RolloutFigure(L.Callback):
    """On test end, write `rollout.png`: `count` test images and, under each, the attention
    rollout of a vision transformer (`net.backbone.attention_rollout`)."""

    def __init__(self, count: int = 8) -> None:
        self.count = count

    @torch.no_grad()
    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        backbone: Any = getattr(pl_module.net, "backbone", None)
        if not trainer.is_global_zero or not hasattr(backbone, "attention_rollout"):
            return
        x = cast(Any, trainer).datamodule.splits["test"][0][: self.count]
        figure = rollout_figure(x, backbone.eval().attention_rollout(x))
        save(figure, Path(trainer.default_root_dir) / "rollout.png")


def rollout_figure(images: torch.Tensor, rollout: torch.Tensor) -> Any:
    """Images (N, C, H, W) in the top row, their attention rollout (N, h, w) below it."""
    plt = pyplot()
    n, top = len(images), float(rollout.max())  # one colour scale for every image
    size = (max(0.95 * n + 1.3, 5.5), 2.7)  # square panels, as wide as the title needs
    fig, axes = plt.subplots(2, n, figsize=size, squeeze=False, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    for i in range(n):
        axes[0, i].imshow(images[i].mean(0).cpu().numpy(), cmap="gray_r")
        heat = axes[1, i].imshow(rollout[i].cpu().numpy(), cmap="viridis", vmin=0, vmax=top)
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("rollout")
    bar = fig.colorbar(heat, ax=list(axes[1]), fraction=0.05, aspect=8)
    bar.set_label("share of the\nsummary per patch", fontsize=8)
    bar.ax.tick_params(labelsize=8)
    fig.suptitle("what the class token reads: attention rollout over the patches")
    return fig


class EmbeddingFigure(L.Callback):
    """On test end, write `embedding.png`: the embeddings of `classes` test classes (`net.embed`,
    or the backbone's `net.features` of a self-supervised net), projected to 2-D by PCA and
    coloured by class, under `title` (by default: the classes were unseen in training)."""

    def __init__(self, classes: int = 10, title: str | None = None) -> None:
        self.classes, self.title = classes, title

    @torch.no_grad()
    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        net: Any = cast(torch.nn.Module, pl_module.net).eval()
        x, labels = cast(Any, trainer).datamodule.splits["test"][:2]
        keep = labels < labels.min() + self.classes
        encode = net.embed if hasattr(net, "embed") else net.features
        z = encode(x[keep].to(pl_module.device)).cpu()
        z = z - z.mean(0)
        points = z @ torch.linalg.svd(z, full_matrices=False).Vh[:2].T
        figure = embedding_figure(points, labels[keep], self.title)
        save(figure, Path(trainer.default_root_dir) / "embedding.png")


class TaskWeightsFigure(L.Callback):
    """Write `task_weights.png` at the end of training: each head's effective loss weight per
    epoch, as a multi-task run with uncertainty weighting learns them."""

    def __init__(self) -> None:
        self.history: list[list[float]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.history.append(cast("MultiTaskTask", pl_module).task_weights().tolist())

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero or not self.history:
            return
        task = cast("MultiTaskTask", pl_module)
        figure = task_weights_figure(self.history, task.targets, task.weighting)
        save(figure, Path(trainer.default_root_dir) / "task_weights.png")


class SamplesFigure(L.Callback):
    """On test end, write `samples.png`: `count` images from `net.sample` (a GAN, a PixelCNN)
    in `rows` rows, drawn with a fixed seed."""

    def __init__(self, count: int = 32, rows: int = 4) -> None:
        self.count, self.rows = count, rows

    @torch.no_grad()
    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        path = Path(trainer.default_root_dir) / "samples.png"
        save_samples(cast(torch.nn.Module, pl_module.net).eval(), path, self.count, self.rows)


class InitStatisticsFigure(L.Callback):
    """`init.png`: the per-layer std of activations and weight gradients when the fit starts
    (`zoo.analysis.init_statistics`), and the validation accuracy of every epoch after."""

    def __init__(self, filename: str = "init.png") -> None:
        self.filename = filename
        self.statistics: tuple[list[float], list[float]] | None = None
        self.accuracy: list[float] = []

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        from zoo.analysis.init_statistics import layer_statistics

        x, y = next(iter(cast(Any, trainer).datamodule.train_dataloader()))[:2]
        self.statistics = layer_statistics(cast(torch.nn.Module, pl_module.net), x, y)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # after the task's own epoch-end hook has logged this epoch's accuracy (at a callback's
        # `on_validation_epoch_end` the metrics still hold the previous epoch's)
        if "val/acc" in trainer.callback_metrics and not trainer.sanity_checking:
            self.accuracy.append(float(trainer.callback_metrics["val/acc"]))

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.statistics is None or not trainer.is_global_zero:
            return
        scheme = (getattr(pl_module.net, "zoo_config", None) or {}).get("init", "default")
        figure = init_figure(*self.statistics, self.accuracy, scheme)
        save(figure, Path(trainer.default_root_dir) / self.filename)


TOKEN_FONT = 7  # points: the tick labels that name the tokens
CELL = 0.17  # inches per token in an attention map: room for a two-digit label and a gap


def _panel_inches(tokens: int, least: float, cell: float = CELL) -> float:
    """The side of an attention map over `tokens` tokens: a cell per token, at least `least`."""
    return max(cell * tokens, least)


def _token_ticks(
    ax,
    source: torch.Tensor,
    output: torch.Tensor,
    bottom: bool = True,
    left: bool = True,
    fontsize: float = TOKEN_FONT,
) -> None:
    """Name the source tokens under the map (if `bottom`) and the output tokens beside it (if
    `left`), one tick per cell."""
    ax.set_xticks(range(len(source)), [str(int(t)) for t in source], fontsize=fontsize)
    ax.set_yticks(range(len(output)), [str(int(t)) for t in output], fontsize=fontsize)
    ax.tick_params(length=2, pad=1, labelbottom=bottom, labelleft=left)


def attention_figure(weights: torch.Tensor, source: torch.Tensor, output: torch.Tensor) -> Any:
    """Attention weights (output steps x source tokens) as a heat map with its colour bar."""
    plt = pyplot()
    side = _panel_inches(max(weights.shape), 3.2, cell=0.2)
    fig, ax = plt.subplots(figsize=(side + 1.8, side + 1.0), layout="constrained")
    image = ax.imshow(weights.cpu().numpy(), cmap="viridis", vmin=0, vmax=1)
    _token_ticks(ax, source, output, fontsize=8)
    ax.set(xlabel="source token", ylabel="output token", title="where each output step attends")
    fig.colorbar(image, ax=ax, label="attention weight", shrink=0.8)
    return fig


def heads_attention_figure(
    weights: torch.Tensor, source: torch.Tensor, output: torch.Tensor
) -> Any:
    """Attention weights (layers, heads, output steps, source tokens): one heat map per head,
    a row per layer, with one colour bar; the tokens are named on the outer maps."""
    plt = pyplot()
    layers, heads = weights.shape[:2]
    side = _panel_inches(max(weights.shape[-2:]), 1.6)
    size = (max(side * heads + 1.8, 6.0), side * layers + 1.1)
    fig, axes = plt.subplots(layers, heads, figsize=size, squeeze=False, layout="constrained")
    for (layer, head), ax in zip(
        ((a, b) for a in range(layers) for b in range(heads)), axes.flat, strict=True
    ):
        image = ax.imshow(weights[layer, head].cpu().numpy(), cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"layer {layer + 1}, head {head + 1}", fontsize=9)
        _token_ticks(ax, source, output, bottom=layer == layers - 1, left=head == 0)
    for ax in axes[-1]:
        ax.set_xlabel("source token", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel("output token", fontsize=9)
    fig.suptitle("cross-attention: where each output step attends, per head")
    fig.colorbar(image, ax=axes.ravel().tolist(), label="attention weight", shrink=0.8)
    return fig


def embedding_figure(points: torch.Tensor, labels: torch.Tensor, title: str | None = None) -> Any:
    """Embeddings projected to 2-D, one colour per class, with a legend of the classes."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    classes = labels.unique().tolist()
    for i, c in enumerate(classes):
        keep = labels == c
        ax.scatter(*points[keep].T.cpu().numpy(), color=plt.cm.tab10(i % 10), s=10, label=str(c))
    title = title or f"embeddings of {len(classes)} unseen classes"
    ax.set(xlabel="PC 1", ylabel="PC 2", title=title)
    ax.legend(title="class", fontsize=7, **OUTSIDE_RIGHT)
    return fig


def task_weights_figure(history: list[list[float]], targets: list[str], weighting: str) -> Any:
    """Each head's effective loss weight per epoch."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    for name, weights in zip(targets, zip(*history, strict=True), strict=True):
        ax.plot(range(1, len(weights) + 1), weights, label=name)
    ax.set(
        xlabel="epoch",
        ylabel="loss weight (log scale)",
        yscale="log",
        title=f"loss weight of each head ({weighting} weighting)",
    )
    ax.xaxis.set_major_locator(whole_numbers())
    ax.legend(title="head", **OUTSIDE_RIGHT)
    return fig


def init_figure(
    activations: list[float], gradients: list[float], accuracy: list[float], scheme: str
) -> Any:
    """Per-layer std of activations and gradients at initialisation, then the learning curve:
    the validation accuracy after each epoch."""
    plt = pyplot()
    fig, (depth, curve) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    layers = range(1, len(activations) + 1)
    depth.semilogy(layers, activations, "o-", label="activations\n(layer output)")
    depth.semilogy(layers, gradients, "s-", label="gradients\n(layer weights)")
    depth.set_title("at initialisation: signal size by depth")
    depth.set_xlabel("linear layer (input to output)")
    depth.set_ylabel("standard deviation (log scale)")
    depth.legend(fontsize=8, **OUTSIDE_RIGHT)
    curve.plot(range(1, len(accuracy) + 1), accuracy, "o-", label="validation")
    curve.set_title("learning curve")
    curve.set_xlabel("epoch")
    curve.set_ylabel("accuracy (fraction correct)")
    curve.set_ylim(0, 1)
    curve.legend(fontsize=8, **OUTSIDE_RIGHT)
    for ax in (depth, curve):
        ax.xaxis.set_major_locator(whole_numbers())
    fig.suptitle(f"Initialisation {scheme!r}: forward and backward signals, then learning")
    return fig
