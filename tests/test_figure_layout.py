"""The layout check (`zoo.utils.figure_layout.layout_problems`) finds what it looks for: text
on text, text past the figure's edge, a legend over a line, a figure mostly empty; and it
passes a clean figure, and text that is never drawn."""

import pytest

from zoo.utils.figure_layout import OUTSIDE_RIGHT, layout_problems
from zoo.utils.plots import pyplot


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot().close("all")


def clean_figure():
    """A titled, labelled plot with its legend beside the axes."""
    fig, ax = pyplot().subplots(figsize=(5, 3), layout="constrained")
    ax.plot(range(10), [x**2 for x in range(10)], label="squares")
    ax.set(title="squares", xlabel="x", ylabel="x squared")
    ax.legend(**OUTSIDE_RIGHT)
    return fig


def test_a_clean_figure_has_no_problems():
    assert layout_problems(clean_figure()) == []


def test_two_texts_at_the_same_place_overlap():
    fig = clean_figure()
    fig.axes[0].text(2, 40, "planted")
    fig.axes[0].text(2, 40, "planted again")
    problems = layout_problems(fig)
    assert len(problems) == 1 and problems[0].startswith("text overlaps: 'planted'")


def test_tick_labels_that_run_together_overlap():
    fig = clean_figure()
    fig.axes[0].set_xticks(range(10), [f"token {i}" for i in range(10)])
    assert any(p.startswith("text overlaps: 'token") for p in layout_problems(fig))


def test_a_legend_on_a_line_hides_it():
    fig, ax = pyplot().subplots(figsize=(5, 3), layout="constrained")
    ax.plot([0, 1], [1, 1], label="level")  # along the top, where the legend goes
    ax.plot([0, 1], [0, 0.5], label="rise")
    ax.set(title="lines", xlabel="x", ylabel="y")
    ax.legend(loc="upper right")
    problems = layout_problems(fig)
    assert len(problems) == 1 and problems[0].startswith("legend hides")
    assert "'level'" in problems[0]


def test_a_legend_on_scatter_points_hides_them():
    fig, ax = pyplot().subplots(figsize=(5, 3), layout="constrained")
    ax.scatter([0.9, 0.95, 0.1], [0.9, 0.95, 0.1], label="points")
    ax.set(title="points", xlabel="x", ylabel="y", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper right")
    assert [p.split(" of ")[0] for p in layout_problems(fig)] == ["legend hides 67%"]


def test_text_past_the_edge_is_clipped():
    fig = clean_figure()
    fig.text(0.9, 0.5, "a label that runs off the figure")
    problems = layout_problems(fig)
    assert problems == [
        "clipped by the figure's right edge: 'a label that runs off the figure' (figure text)"
    ]


def test_a_small_plot_in_a_large_figure_leaves_empty_margins():
    fig = pyplot().figure(figsize=(8, 6))
    ax = fig.add_axes((0.4, 0.4, 0.2, 0.2))
    ax.plot([0, 1], [0, 1])
    problems = layout_problems(fig)
    assert len(problems) == 1 and problems[0].startswith("large empty margins")


def test_text_that_is_not_drawn_is_not_checked():
    """Tick labels of a hidden axis, and spare tick labels past the view, never collide."""
    fig = clean_figure()
    fig.axes[0].set_xticks(range(10), [f"token {i}" for i in range(10)])
    fig.axes[0].axis("off")
    fig.axes[0].set_title("")
    assert layout_problems(fig) == []
