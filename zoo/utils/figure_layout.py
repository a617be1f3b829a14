"""A figure's layout, checked on what matplotlib draws: no two pieces of text overlap, no text
runs off the figure, no legend hides the data of its axes, and the axes fill the figure.

A figure can carry every title and label and still be unreadable: tick labels that run
together, a colour-bar label cut by the edge, a legend over the curves. `layout_problems`
draws the figure once and asks matplotlib where each piece landed (`get_window_extent`), so a
test can assert that every figure the zoo writes reads cleanly. The zoo's figures share two
habits that keep them so: legends beside their axes (`OUTSIDE_RIGHT`) and whole-number ticks
on counts (`whole_numbers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOLERANCE_PX = 1.0  # boxes may touch or overlap by this much (anti-aliasing, rounding)
HIDDEN_FRACTION = 0.01  # share of one line's or scatter's points a legend may cover
MIN_FILL = 0.55  # share of the figure the axes (with their labels) must cover

# legend keywords that put it beside its axes, where it cannot hide a curve whatever the data
OUTSIDE_RIGHT: dict[str, Any] = {
    "loc": "upper left",
    "bbox_to_anchor": (1.02, 1),
    "borderaxespad": 0,
}


def whole_numbers() -> Any:
    """A tick locator for counts (epochs, layers): whole numbers only, never epoch 2.5."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


@dataclass
class _Box:
    """Where one piece of text (or a legend) landed, in display pixels, and what it is."""

    name: str
    x0: float
    y0: float
    x1: float
    y1: float


def layout_problems(
    fig: Any, min_fill: float = MIN_FILL, hidden_fraction: float = HIDDEN_FRACTION
) -> list[str]:
    """Readable layout problems of `fig` (empty when it reads cleanly): overlapping text,
    text clipped by the figure's edge, legends over data, and large empty margins."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = _text_boxes(fig, renderer)
    return [
        *_overlaps(boxes),
        *_clipped(boxes, fig.bbox),
        *_hidden_data(fig, renderer, hidden_fraction),
        *_empty_margins(fig, renderer, min_fill),
    ]


def _text_boxes(fig: Any, renderer: Any) -> list[_Box]:
    """Every visible, non-empty text the figure draws (suptitle, titles, axis and tick labels,
    colour-bar labels, annotations), with each legend as one box."""
    texts = [(text, "figure text") for text in fig.texts]
    legends = list(fig.legends)
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        where = f"axes {i + 1}" + (f" ({ax.get_title()!r})" if ax.get_title() else "")
        texts += [(child, f"text of {where}") for child in _axes_texts(ax)]
        legends += [ax.get_legend()] if ax.get_legend() else []
    boxes = [
        _box(text.get_window_extent(renderer), f"{text.get_text()!r} ({role})")
        for text, role in texts
        if text.get_visible() and text.get_text().strip()
    ]
    boxes += [
        _box(legend.get_window_extent(renderer), "legend")
        for legend in legends
        if legend.get_visible()
    ]
    return boxes


def _axes_texts(ax: Any) -> list[Any]:
    """The texts of one axes that are drawn: its titles and annotations, and, when its axes are
    on, each axis's label, offset text and the labels of the ticks inside the view."""
    from matplotlib.text import Text

    texts = [child for child in ax.get_children() if isinstance(child, Text)]
    if not ax.axison:
        return texts
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_visible():
            texts += [axis.label, axis.offsetText, *_drawn_tick_labels(axis)]
    return texts


def _drawn_tick_labels(axis: Any) -> list[Any]:
    """The visible labels of the ticks an axis draws: those at its current locations inside
    the view (an axis keeps spare tick objects beyond them)."""
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * (high - low)
    labels = []
    for locations, ticks in (
        (axis.get_majorticklocs(), axis.get_major_ticks),
        (axis.get_minorticklocs(), axis.get_minor_ticks),
    ):
        for tick in ticks(len(locations)):
            if low - slack <= tick.get_loc() <= high + slack:
                labels += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    return labels


def _box(extent: Any, name: str) -> _Box:
    return _Box(name, extent.x0, extent.y0, extent.x1, extent.y1)


def _overlaps(boxes: list[_Box], tolerance: float = TOLERANCE_PX) -> list[str]:
    """One line per pair of boxes that overlap by more than `tolerance` pixels both ways."""
    if len(boxes) < 2:
        return []
    corners = np.array([(b.x0, b.y0, b.x1, b.y1) for b in boxes])
    width = np.minimum.outer(corners[:, 2], corners[:, 2]) - np.maximum.outer(
        corners[:, 0], corners[:, 0]
    )
    height = np.minimum.outer(corners[:, 3], corners[:, 3]) - np.maximum.outer(
        corners[:, 1], corners[:, 1]
    )
    pairs = np.argwhere(np.triu((width > tolerance) & (height > tolerance), k=1))
    return [f"text overlaps: {boxes[i].name} and {boxes[j].name}" for i, j in pairs]


def _clipped(boxes: list[_Box], frame: Any, tolerance: float = TOLERANCE_PX) -> list[str]:
    """One line per box that runs past the figure's edge by more than `tolerance` pixels."""
    problems = []
    for b in boxes:
        edges = {
            "left": frame.x0 - b.x0,
            "bottom": frame.y0 - b.y0,
            "right": b.x1 - frame.x1,
            "top": b.y1 - frame.y1,
        }
        problems += [
            f"clipped by the figure's {edge} edge: {b.name}"
            for edge, past in edges.items()
            if past > tolerance
        ]
    return problems


def _hidden_data(fig: Any, renderer: Any, hidden_fraction: float = HIDDEN_FRACTION) -> list[str]:
    """One line per line or scatter more than `hidden_fraction` of whose points (lines sampled
    every pixel or so between their vertices) lie under a legend of its axes or figure.
    Contours, images and fills are background, not data, and may sit under a legend."""
    problems = []
    for i, ax in enumerate(fig.axes):
        legends = [ax.get_legend(), *fig.legends]
        frames = [g.get_window_extent(renderer) for g in legends if g and g.get_visible()]
        for name, points in _data_points(ax):
            inside = _inside(points, ax.bbox)
            shown = points[inside]
            for frame in frames:
                share = _inside(shown, frame).mean() if len(shown) else 0.0
                if share > hidden_fraction:
                    problems.append(
                        f"legend hides {share:.0%} of {name!r} in axes {i + 1} ({ax.get_title()!r})"
                    )
    return problems


def _data_points(ax: Any) -> list[tuple[str, np.ndarray]]:
    """(label, display coordinates) of each visible line (densified along its segments) and
    each scatter (its markers) of `ax`."""
    from matplotlib.collections import PathCollection

    found = []
    for line in ax.get_lines():
        if line.get_visible() and len(line.get_xydata()):
            points = line.get_transform().transform(line.get_xydata())
            joined = line.get_linestyle() not in ("None", "", " ")
            found.append((line.get_label(), _densify(points) if joined else points))
    for collection in ax.collections:
        if isinstance(collection, PathCollection) and collection.get_visible():
            offsets = collection.get_offsets()
            points = collection.get_offset_transform().transform(offsets)
            found.append((collection.get_label(), np.asarray(points)))
    return found


def _densify(points: np.ndarray, step: float = 1.0, most: int = 4000) -> np.ndarray:
    """Points every `step` pixels or so along the polyline through `points` (at most `most`
    per segment: a segment far past the view is clipped anyway)."""
    points = points[np.isfinite(points).all(1)]
    if len(points) < 2:
        return points
    segments = np.diff(points, axis=0)
    counts = np.clip((np.hypot(*segments.T) / step).astype(int), 1, most)
    which = np.repeat(np.arange(len(segments)), counts)
    along = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1) / (
        np.repeat(counts, counts)
    )
    return np.concatenate([points[:1], points[which] + segments[which] * along[:, None]])


def _inside(points: np.ndarray, frame: Any) -> np.ndarray:
    """Which of the display points lie inside the bounding box `frame`."""
    if not len(points):
        return np.zeros(0, dtype=bool)
    x, y = points[:, 0], points[:, 1]
    return (frame.x0 <= x) & (x <= frame.x1) & (frame.y0 <= y) & (y <= frame.y1)


def _empty_margins(fig: Any, renderer: Any, min_fill: float = MIN_FILL) -> list[str]:
    """One line if the axes' tight boxes (with their titles, labels and legends) and the
    figure's own texts and legends cover less than `min_fill` of it: the rest is margin."""
    width, height = int(np.ceil(fig.bbox.width)), int(np.ceil(fig.bbox.height))
    covered = np.zeros((height, width), dtype=bool)
    extents = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    extents += [text.get_window_extent(renderer) for text in fig.texts if text.get_text().strip()]
    extents += [legend.get_window_extent(renderer) for legend in fig.legends]
    for e in (e for e in extents if e is not None):
        x0, x1 = np.clip([int(e.x0), int(np.ceil(e.x1))], 0, width)
        y0, y1 = np.clip([int(e.y0), int(np.ceil(e.y1))], 0, height)
        covered[y0:y1, x0:x1] = True
    fill = covered.mean()
    if fill >= min_fill:
        return []
    return [f"large empty margins: the axes and their texts cover {fill:.0%} of the figure"]
