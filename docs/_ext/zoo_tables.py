"""Tables whose numbers are read at build time, never typed: the shipped cards and the seed
spread of the learning proofs.

    .. zoo-cards::                      every shipped card (the pretrained-model table)
       :names: autoencoder.*, vae.*     only these weights (shell-style patterns)
       :experiments: ae_digits          or only the cards these experiments trained
       :metrics: test/acc, test/loss    only these metrics
       :baselines:                      add the card's baselines and published figures
       :short:                          leave out the data column (the page describes it)

    .. zoo-spread:: test_name [test_name ...]
       :figures: plain, residual        only these figures

Cards come from `zoo.list_pretrained()` / `zoo.model_card(name)`; a card's `seed_spread`,
when measured, is shown as each metric's standard deviation over seeds. Spreads come from
`tests/SPREADS.md`, which `python tests/spread.py` writes; a test named here that the file does
not hold is a build error, so a renamed proof cannot leave a stale table behind.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
SPREADS = ROOT / "tests" / "SPREADS.md"
SPREAD_COLUMNS = ("case", "figure", "per seed", "min", "max", "std", "min - 2 std", "max + 2 std")


def comma_list(argument: str | None) -> list[str]:
    """A directive option's comma- or space-separated items."""
    return [item for item in re.split(r"[,\s]+", argument or "") if item]


def list_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], widths: str = "auto", css: str = ""
) -> str:
    """rST `list-table` source: cells are rST themselves (literals, line breaks as `|`)."""
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}"]
    lines += [f"   :class: {css}", ""] if css else [""]
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            bullet = "   * - " if i == 0 else "     - "
            cell_lines = str(cell).splitlines() or [""]
            lines.append(bullet + cell_lines[0])
            lines += ["       " + more for more in cell_lines[1:]]
    return "\n".join(lines)


def escape(text: str) -> str:
    """Plain text as rST that shows it unchanged (a card's free text may hold `*` or `_`)."""
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def metric_value(value: float) -> str:
    """A metric as the cards' readers compare it: three decimals, or three significant digits
    for values of 100 and more."""
    return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"


def metric_cell(card: dict[str, Any], keys: Sequence[str]) -> str:
    """One line per metric (`acc 0.979`), with the seed spread's std when the card has one."""
    spread = (card.get("seed_spread") or {}).get("metrics", {})
    lines = []
    for key in keys or sorted(card["metrics"]):
        if key not in card["metrics"]:
            raise KeyError(f"{card['name']}: no metric {key!r} on its card")
        text = f"{key.removeprefix('test/')} {metric_value(card['metrics'][key])}"
        if key in spread:
            text += f" ± {metric_value(spread[key]['std'])}"
        lines.append(text)
    return "\n".join(f"| {line}" for line in lines)


def baseline_cell(card: dict[str, Any]) -> str:
    """The baselines the card's evaluation measured and the published figures it cites."""
    baselines = (card.get("baselines") or {}).items()
    lines = [f"{escape(name)}: {metric_value(v)}" for name, v in baselines]
    published = (card.get("published") or {}).get("figures") or {}
    lines += [f"published, {escape(name)}: {metric_value(v)}" for name, v in published.items()]
    return "\n".join(f"| {line}" for line in lines) or "-"


class CardsTable(SphinxDirective):
    """The shipped cards as a table: name, dataset, test metrics, parameters, command."""

    option_spec: ClassVar[dict[str, Any]] = {
        "names": directives.unchanged,
        "experiments": directives.unchanged,
        "metrics": directives.unchanged,
        "baselines": directives.flag,
        "short": directives.flag,
    }

    def cards(self) -> list[dict[str, Any]]:
        import zoo

        names, experiments = (
            comma_list(self.options.get("names")),
            comma_list(self.options.get("experiments")),
        )
        chosen = []
        for name in zoo.list_pretrained():
            card = zoo.model_card(name)
            by_name = any(fnmatch.fnmatchcase(name, pattern) for pattern in names)
            by_experiment = card.get("experiment") in experiments
            if by_name or by_experiment or not (names or experiments):
                chosen.append(card)
        return chosen

    def run(self) -> list[nodes.Node]:
        cards = self.cards()
        if not cards:
            raise self.error("zoo-cards: no shipped card matches :names: or :experiments:")
        keys = comma_list(self.options.get("metrics"))
        columns = [
            "weights",
            "data",
            "test metrics",
            "baselines, published",
            "parameters",
            "command",
        ]
        widths = {"weights": 18, "data": 26, "test metrics": 20, "parameters": 12, "command": 22}
        widths["baselines, published"] = 20
        if "baselines" not in self.options:
            columns.remove("baselines, published")
        if "short" in self.options:
            columns.remove("data")
        rows = []
        for card in cards:
            cells = {
                "weights": f"``{card['name']}``",
                "data": escape(card["dataset"]),
                "test metrics": metric_cell(card, keys),
                "baselines, published": baseline_cell(card),
                "parameters": f"{card['num_params']:,}",
                "command": f"``{card['command']}``",
            }
            rows.append([cells[c] for c in columns])
        self.env.note_dependency(str(ROOT / "zoo" / "registry" / "weights"))
        width_spec = " ".join(str(widths[c]) for c in columns)
        return self.parse_text_to_nodes(list_table(columns, rows, width_spec, css="zoo-cards"))


def spread_rows(text: str) -> dict[str, list[list[str]]]:
    """SPREADS.md's table rows by test name (each row's cells after the test's name)."""
    return {test: rows for test, (rows, _) in spread_record(text).items()}


def spread_record(text: str) -> dict[str, tuple[list[list[str]], str]]:
    """SPREADS.md by test name: its rows, and the line that says which run measured them (the
    list item above the row's table: when, at which commit, by which command)."""
    found: dict[str, tuple[list[list[str]], str]] = {}
    measured = "seeds 0, 1 and 2"
    for line in text.splitlines():
        if line.startswith("- "):  # its asides in brackets speak of the file, not of the rows
            measured = re.sub(r"\s*\([^)]*\)", "", line[2:]).strip()
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 1 + len(SPREAD_COLUMNS) and cells[0].startswith("test_"):
            found.setdefault(cells[0], ([], measured))[0].append(cells[1:])
    return found


def test_file(test: str) -> str:
    """The test module that defines `test` (its path from the repository root)."""
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        if re.search(rf"^def {re.escape(test)}\(", path.read_text(), re.M):
            return str(path.relative_to(ROOT))
    raise KeyError(test)


class SpreadTable(SphinxDirective):
    """The seed-to-seed spread of the figures that learning proofs compare."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {"figures": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        text = SPREADS.read_text()
        self.env.note_dependency(str(SPREADS))
        by_test, figures = spread_record(text), comma_list(self.options.get("figures"))
        result: list[nodes.Node] = []
        for test in self.arguments[0].split():
            if test not in by_test:
                raise self.error(f"zoo-spread: {test} has no rows in tests/SPREADS.md")
            try:
                where = test_file(test)
            except KeyError:
                raise self.error(f"zoo-spread: no test module defines {test}") from None
            recorded, measured = by_test[test]
            rows = [r for r in recorded if not figures or r[1] in figures]
            if not rows:
                raise self.error(f"zoo-spread: {test} records none of {figures}")
            rows = [[cell or "-" for cell in row] for row in rows]
            if all(row[0] == "-" for row in rows):
                rows, header = [row[1:] for row in rows], SPREAD_COLUMNS[1:]
            else:
                header = SPREAD_COLUMNS
            caption = (
                f".. rst-class:: zoo-proof\n\nProof ``{test}`` in ``{where}``, "
                f"{measured.rstrip('.')}."
            )
            result += self.parse_text_to_nodes(caption + "\n\n" + list_table(header, rows))
        return result


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("zoo-cards", CardsTable)
    app.add_directive("zoo-spread", SpreadTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
