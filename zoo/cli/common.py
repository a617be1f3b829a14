"""What every command shares: one way to name a model source, report a user's mistake and
print a markdown table."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from zoo.utils.errors import fail

T = TypeVar("T")

# what a user's mistake raises: a bad name, file, value or shape (never a bug's traceback)
USER_ERRORS = (KeyError, ValueError, FileNotFoundError, RuntimeError)
SOURCE_HELP = "pretrained weights' name (zoo.list_pretrained()), a model directory or a .ckpt file"


def or_exit(action: Callable[[], T]) -> T:
    """`action()`, or `fail` with its message if the user's input made it fail."""
    try:
        return action()
    except USER_ERRORS as error:
        fail(error.args[0] if isinstance(error, KeyError) and error.args else error)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]], digits: int = 3) -> str:
    """A markdown table; floats are written with `digits` decimals, other values as they are."""

    def cell(value: Any) -> str:
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def positive_int(text: str) -> int:
    """An argparse type: an integer > 0 (argparse reports anything else in one line)."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value}: expected a positive integer")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number in [0, 1), such as a perturbation of the pixel range."""
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{value}: expected a number in [0, 1)")
    return value
