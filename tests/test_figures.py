"""Every figure the zoo writes can be read without its code: a title saying what it shows,
labelled axes, and a legend or a colour bar wherever colour carries meaning. Checked on the
matplotlib objects each figure function builds (the callbacks and commands save these)."""

import pytest
import torch

from zoo.callbacks import figures
from zoo.callbacks.generalization import overfit_figure
from zoo.cli.adversarial import curves_figure
from zoo.cli.compare_runs import sweep_title
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


def test_a_sweep_against_seconds_labels_both_panels(tmp_path):
    from zoo.cli.compare_runs import compare, read_runs, sweep_figure

    sweep = tmp_path / "batch_size_digits" / "multiruns" / "now"
    for run, batch in enumerate((8, 64)):
        folder = sweep / str(run)
        (folder / ".hydra").mkdir(parents=True)
        (folder / ".hydra" / "overrides.yaml").write_text(f"- data.batch_size={batch}\n")
        rows = [f"{e},{0.5 + 0.1 * e},{0.01 * batch * (e + 1)}" for e in range(3)]
        (folder / "metrics.csv").write_text("epoch,val/acc,time/train_s\n" + "\n".join(rows))
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
