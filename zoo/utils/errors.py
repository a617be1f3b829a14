"""How a run or a command ends on a user's mistake or a stop: one line, and the exit status
that says which."""

from __future__ import annotations

import sys
from typing import NoReturn


class TrainingStopped(RuntimeError):
    """Training ended early for a reason the user must see; `exit_code` is the process's."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: object) -> NoReturn:
    """Exit with one line `error: ...` on stderr and status 2 (a usage error, as argparse's)."""
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)
