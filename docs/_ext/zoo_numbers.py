"""No result typed by hand on a pattern page.

The pages under `patterns/` and `guide/` show results only through directives that read them at build
time (`zoo-cards` from the cards, `zoo-spread` from `tests/SPREADS.md`) and through the
gallery's output. This check reads each such page's source and warns on any number in its
prose that looks like a result: a decimal (`0.97`), a percentage (`12%`), a count with
thousands separators (`53,002`) or a ratio (`17x`). Settings stay writable in prose
(`20 layers`, `T=20`, `5-way`), and code, commands and directive bodies are not prose.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

CHECKED = ("patterns/", "guide/")
RESULT = re.compile(r"(?<![\w.])(\d+\.\d+|\d+\s?%|\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?x)(?!\w|\.\d)")
CODE = {"code-block", "code", "sourcecode", "literalinclude", "math", "raw", "argparse"}
INLINE_CODE = re.compile(r"``.*?``|:[\w:-]+:`[^`]*`|`[^`]*`_?")


def prose_lines(source: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines that are prose: not code (a literal block, a
    `code-block`), not a directive's own line or options, with inline literals and roles
    taken out. Other directives' bodies (a figure's caption, a note) are prose."""
    found, skip_indent = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                continue
            skip_indent = None
        stripped = line.strip()
        directive = re.match(r"\.\. ([\w-]+)::", stripped)
        if (directive and directive.group(1) in CODE) or (
            stripped.endswith("::") and not stripped.startswith("..")
        ):
            skip_indent = indent
        if stripped.startswith(".. ") or re.match(r":[\w-]+:( |$)", stripped):
            continue
        found.append((number, INLINE_CODE.sub("", line)))
    return found


def check(app: Sphinx, docname: str, source: list[str]) -> None:
    """A `source-read` handler: warn on each result number in a pattern page's prose."""
    if not docname.startswith(CHECKED):
        return
    for number, text in prose_lines(source[0]):
        for match in RESULT.finditer(text):
            logger.warning(
                "a number typed by hand on a pattern page (%r): show results through "
                "zoo-cards, zoo-spread or the gallery",
                match.group(0),
                location=(docname, number),
                type="zoo",
                subtype="numbers",
            )


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
