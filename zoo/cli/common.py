"""What every command shares: one way to name a model source, report a user's mistake and
print a markdown table."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# what a user's mistake raises: a bad name, file, value or shape (never a bug's traceback)
USER_ERRORS = (KeyError, ValueError, FileNotFoundError, RuntimeError)
SOURCE_HELP = "pretrained weights' name (zoo.list_pretrained()), a model directory or a .ckpt file"


def or_exit(action: Callable[[], T]) -> T:
    """`action()`, or exit with one line `error: ...` if the user's input made it fail."""
    try:
        return action()
    except USER_ERRORS as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        sys.exit(f"error: {message}")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]], digits: int = 3) -> str:
    """A markdown table; floats are written with `digits` decimals, other values as they are."""

    def cell(value: Any) -> str:
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
