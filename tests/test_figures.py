"""Every figure the zoo writes can be read without its code: a title saying what it shows,
labelled axes, and a legend or a colour bar wherever colour carries meaning; and every one
lays out cleanly (`zoo.utils.figure_layout`: no overlapping or clipped text, no legend over
the data, no large empty margins). Checked on the matplotlib objects each figure function
builds (the callbacks and commands save these), from small synthetic inputs."""

import functools

import lightning.pytorch as L
import numpy as np
import pytest
import torch

from zoo.callbacks import figures
from zoo.callbacks.generalization import overfit_figure
from zoo.cli.adversarial import curves_figure
from zoo.cli.compare_runs import Run, compare, sweep_figure, sweep_title
from zoo.cli.feature_vis import feature_vis_figure
from zoo.utils.figure_layout import layout_problems
from zoo.utils.plots import pyplot


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot().close("all")


def labelled(ax) -> bool:
    return bool(ax.get_title() and ax.get_xlabel() and ax.get_ylabel())


def legend_entries(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def colour_bar_label(fig) -> str:
    """The label of the figure's colour bar (the extra axes a colour bar adds)."""
    (bar,) = fig.axes[1:]
    return bar.get_ylabel()


def test_reconstructions_say_which_row_is_the_input():
    fig = figures.reconstructions_figure(torch.rand(8, 1, 8, 8), torch.rand(8, 1, 8, 8))
    top, bottom = fig.axes
    assert fig._suptitle.get_text() == "Reconstructions"
    assert top.get_title().startswith("input") and bottom.get_title().startswith("output")


def test_latent_map_and_attention_name_their_colours():
    latent = figures.latent_figure(torch.randn(50, 2), torch.randint(0, 10, (50,)))
    assert labelled(latent.axes[0]) and colour_bar_label(latent) == "class"
    attention = figures.attention_figure(torch.rand(6, 5), torch.arange(5), torch.arange(6))
    assert labelled(attention.axes[0]) and colour_bar_label(attention) == "attention weight"


def test_every_cross_attention_head_gets_a_titled_panel():
    fig = figures.heads_attention_figure(torch.rand(2, 3, 6, 5), torch.arange(5), torch.arange(6))
    panels = fig.axes[:-1]
    assert len(panels) == 6 and panels[4].get_title() == "layer 2, head 2"
    assert fig.axes[-1].get_ylabel() == "attention weight"  # the one colour bar
    assert panels[3].get_ylabel() == "output token" and panels[3].get_xlabel() == "source token"


def test_embedding_has_a_legend_of_its_classes():
    labels = torch.arange(4).repeat(10)
    fig = figures.embedding_figure(torch.randn(40, 2), labels)
    (ax,) = fig.axes
    assert labelled(ax) and legend_entries(ax) == ["0", "1", "2", "3"]
    assert ax.get_legend().get_title().get_text() == "class"


def test_curves_say_what_they_plot():
    weights = figures.task_weights_figure(
        [[1.0, 0.1], [2.0, 0.05]], ["digit", "angle"], "uncertainty"
    )
    assert labelled(weights.axes[0]) and legend_entries(weights.axes[0]) == ["digit", "angle"]
    init = figures.init_figure([1.0, 0.9], [0.01, 0.02], [0.5, 0.8], "he")
    assert "'he'" in init._suptitle.get_text()
    assert all(labelled(ax) and legend_entries(ax) for ax in init.axes)
    samples = figures.samples_figure(torch.rand(8, 1, 8, 8), rows=2)
    assert "samples" in samples.axes[0].get_title()
    overfit = overfit_figure([1.0, 0.1, 0.01], [1.0, 0.5, 0.6])
    assert labelled(overfit.axes[0]) and len(legend_entries(overfit.axes[0])) == 2
    attacks = curves_figure({"cnn": {"fgsm": [0.9, 0.5], "pgd": [0.9, 0.3]}}, [0.0, 0.1])
    assert labelled(attacks.axes[0]) and legend_entries(attacks.axes[0]) == ["cnn fgsm", "cnn pgd"]


def test_a_sweep_plot_is_titled_by_what_it_shows_not_by_its_timestamp(tmp_path):
    sweep = tmp_path / "optimizers_digits" / "multiruns" / "2026-11-30_10-00-00"
    title = sweep_title(sweep, "train/loss", None)
    assert title == "optimizers_digits: train/loss by epoch, one line per run"
    assert "2026" not in sweep_title(sweep, "test/acc", "model.init")


def test_feature_visualisations_name_what_each_image_excites():
    from zoo.cli.feature_vis import feature_vis_figure

    fig = feature_vis_figure(torch.rand(3, 1, 8, 8), [0, 1, 2], "class", torch.tensor([0.9] * 3))
    *images, bar = fig.axes
    assert [ax.get_title() for ax in images] == [f"class {i}\np=0.90" for i in range(3)]
    assert "optimised to excite each class" in fig._suptitle.get_text()
    assert bar.get_ylabel().startswith("ink")


def write_sweep(tmp_path, gains=(0.1, 0.1)):
    """A two-run batch-size sweep as train.py -m leaves it: val/acc rises by `gains` per epoch."""
    sweep = tmp_path / "batch_size_digits" / "multiruns" / "now"
    for run, (batch, gain) in enumerate(zip((8, 64), gains, strict=True)):
        folder = sweep / str(run)
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text(f"- data.batch_size={batch}\n")
        rows = [f"{e},{0.5 + gain * e},{0.01 * batch * (e + 1)}" for e in range(3)]
        (folder / "metrics.csv").write_text("epoch,val/acc,time/train_s\n" + "\n".join(rows))
    return sweep


def test_a_sweep_against_seconds_labels_both_panels(tmp_path):
    from zoo.cli.compare_runs import read_runs

    sweep = write_sweep(tmp_path)
    plot, summary = compare(sweep, "val/acc", over="time/train_s", target=0.65)
    assert plot.exists() and "time/train_s to val/acc 0.65" in summary
    fig = sweep_figure(read_runs(sweep), "title", "val/acc", over="time/train_s")
    for ax in fig.axes:
        assert labelled(ax) and len(legend_entries(ax)) == 2
    assert fig.axes[1].get_xscale() == "log"


def test_a_rollout_shows_inputs_over_their_heat_maps_on_one_colour_scale():
    rollout = torch.rand(3, 4, 4)
    fig = figures.rollout_figure(torch.rand(3, 1, 8, 8), rollout)
    *panels, bar = fig.axes
    assert panels[0].get_ylabel() == "input" and panels[3].get_ylabel() == "rollout"
    assert "attention rollout" in fig._suptitle.get_text() and bar.get_ylabel()
    assert {panel.get_images()[0].get_clim() for panel in panels[3:]} == {(0, float(rollout.max()))}


def test_a_run_that_never_reached_the_target_reads_never_in_the_table(tmp_path):
    sweep = write_sweep(tmp_path, gains=(0.1, 0.01))  # the second run stops at 0.52
    _, summary = compare(sweep, "val/acc", over="time/train_s", target=0.65)
    slow = summary.splitlines()[-1]
    assert slow.startswith("| data.batch_size=64 |") and slow.endswith("| never | never |")
    assert "nan" not in summary


def test_samples_stand_apart_with_a_gap_between_rows_and_columns():
    fig = figures.samples_figure(torch.rand(32, 1, 8, 8), rows=4)
    tiles = np.asarray(fig.axes[0].get_images()[0].get_array(), dtype=float)
    assert tiles.shape == (4 * 9 - 1, 8 * 9 - 1)
    assert np.isnan(tiles[8::9]).all() and np.isnan(tiles[:, 8::9]).all()  # the gaps
    assert not np.isnan(tiles[:8, :8]).any()  # the first image, whole


class EpochAccuracy(L.Callback):
    """The validation accuracy each epoch logged, read once the epoch's training is over."""

    def __init__(self) -> None:
        self.accuracy: list[float] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.accuracy.append(float(trainer.callback_metrics["val/acc"]))


def test_init_figure_plots_the_accuracy_of_every_epoch(tmp_path):
    """`init.png`'s learning curve has a point per epoch, each that epoch's accuracy (the
    task logs it in its own epoch-end hook, after the callbacks' `on_validation_epoch_end`)."""
    import zoo
    from zoo.data import DigitsDataModule
    from zoo.tasks import SupervisedTask

    torch.manual_seed(0)
    task = SupervisedTask(
        zoo.create_model("mlp"), optimizer=functools.partial(torch.optim.Adam, lr=1e-2)
    )
    init, logged = figures.InitStatisticsFigure(), EpochAccuracy()
    trainer = L.Trainer(
        max_epochs=2,
        limit_train_batches=2,
        limit_val_batches=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        callbacks=[init, logged],
    )
    trainer.fit(task, datamodule=DigitsDataModule())
    assert len(init.accuracy) == 2 and init.accuracy == logged.accuracy
    assert (tmp_path / "init.png").read_bytes()[:4] == b"\x89PNG"


def sweep_runs(labels: list[str], metric: str = "train/loss") -> list[Run]:
    """Runs of a sweep, 30 epochs each, the metric falling (a loss) or rising at its own rate,
    with the seconds each epoch took and two overrides to plot the final value against."""
    runs = []
    for k, label in enumerate(labels):
        rows = [
            {
                "epoch": e,
                metric: 2.3 * (0.8 + 0.04 * k) ** e if "loss" in metric else 1 - 0.9 * 0.9**e,
                "time/train_s": 0.1 * 2**k * (e + 1),
            }
            for e in range(30)
        ]
        overrides = {"model.backbone.depth": str(4 * (1 + k % 2)), "kind": str(k // 2)}
        runs.append(Run(overrides, label, rows))
    return runs


OPTIMIZERS = [f"optimizer={o}" for o in ("gd", "sgd", "momentum", "rmsprop", "adam")]
TOKENS = torch.tensor([3, 11, 4, 12, 12, 10, 5, 9, 7, 11, 8, 6, 3])  # a 13-symbol source
ATTENTION = torch.softmax(
    3 * torch.randn(2, 2, 14, 13, generator=torch.Generator().manual_seed(0)), -1
)
FIGURES = {  # what each figure function draws, at the size a run or command draws it
    "samples.png": lambda: figures.samples_figure(torch.rand(32, 1, 8, 8), rows=4),
    "reconstructions.png": lambda: figures.reconstructions_figure(
        torch.rand(16, 1, 8, 8), torch.rand(16, 1, 8, 8)
    ),
    "latent_map.png": lambda: figures.latent_figure(
        torch.randn(300, 2), torch.randint(0, 10, (300,))
    ),
    "attention.png (one head)": lambda: figures.attention_figure(
        ATTENTION[0, 0], TOKENS, torch.cat([TOKENS.flip(0), torch.tensor([2])])
    ),
    "attention.png (every head)": lambda: figures.heads_attention_figure(
        ATTENTION, TOKENS, torch.cat([TOKENS.flip(0), torch.tensor([2])])
    ),
    "rollout.png": lambda: figures.rollout_figure(torch.rand(8, 1, 8, 8), torch.rand(8, 4, 4)),
    "embedding.png": lambda: figures.embedding_figure(
        torch.randn(200, 2), torch.arange(5, 10).repeat(40)
    ),
    "task_weights.png": lambda: figures.task_weights_figure(
        [[1 + e / 10, 0.1 / (1 + e)] for e in range(30)], ["digit", "angle"], "uncertainty"
    ),
    "init.png": lambda: figures.init_figure(
        [0.9**i for i in range(20)], [1e-3 * 1.1**i for i in range(20)], [0.3, 0.6, 0.8], "he"
    ),
    "overfit.png": lambda: overfit_figure(
        [2 * 0.95**e for e in range(150)], [2 * 0.97**e + 0.002 * e for e in range(150)]
    ),
    "robust_accuracy.png": lambda: curves_figure(
        {
            name: {"noise": [0.98, 0.95, 0.9], "fgsm": [0.98, 0.4, 0.1], "pgd": [0.98, 0.2, 0.0]}
            for name in ("cnn.digits", "cnn.digits_adversarial")
        },
        [0.0, 0.1, 0.2],
    ),
    "dreams.png": lambda: feature_vis_figure(
        torch.rand(10, 1, 8, 8), list(range(10)), "class", torch.rand(10)
    ),
    "channels.png": lambda: feature_vis_figure(torch.rand(8, 1, 8, 8), list(range(8)), "channel"),
    "train_loss.png": lambda: sweep_figure(
        sweep_runs(OPTIMIZERS),
        "optimizers_digits: train/loss by epoch, one line per run",
        "train/loss",
    ),
    "val_acc.png (and against seconds)": lambda: sweep_figure(
        sweep_runs([f"data.batch_size={b}" for b in (1, 8, 32, 128, 512, "null")], "val/acc"),
        "batch_size_digits: val/acc by epoch, one line per run",
        "val/acc",
        over="time/train_s",
    ),
    "test_acc_vs_depth.png": lambda: sweep_figure(
        sweep_runs(["a", "b", "c", "d"], "test/acc"),
        "depth_digits: final test/acc against model.backbone.depth",
        "test/acc",
        x="model.backbone.depth",
        group="kind",
    ),
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_lays_out_cleanly(name):
    assert layout_problems(FIGURES[name]()) == []


def test_the_conditioning_paths_lay_out_cleanly(monkeypatch):
    """`conditioning.png`, on paths that zigzag through the optimum (the real ones take the
    optimisers' grid searches, `tests/test_landscapes.py`)."""
    from zoo.analysis import landscape_plot
    from zoo.analysis.landscapes import Best, quadratic

    def zigzag(name: str, kappa: float, rotated: bool) -> Best:
        start = quadratic(kappa, rotated)[1]
        steps = torch.arange(61, dtype=torch.float64)[:, None]
        path = start * 0.93**steps * torch.tensor([1.0, -1.0], dtype=torch.float64) ** steps
        return Best(60, 0.1, 0.9, 1.0, path)

    monkeypatch.setattr(landscape_plot, "best_run", zigzag)
    assert layout_problems(landscape_plot.paths_figure()) == []
