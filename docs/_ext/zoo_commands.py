"""The command-line reference, generated from the commands themselves.

    .. zoo-commands::

gives one section per console script of `pyproject.toml`'s `[project.scripts]`, so a new
command cannot be left out:

- a command whose module builds its parser in `build_parser()` is documented from that parser
  by sphinx-argparse (every option, its default and its help);
- any other is run with `--help` at build time (`zoo-train` answers with Hydra's config
  groups) and its answer is shown as printed. A command that fails to answer fails the build.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
HYDRA_HELP_END = "== Config =="  # Hydra's help goes on with the whole composed config
WIDTH = 88  # the columns of a code block on the page


def console_scripts() -> dict[str, str]:
    """`[project.scripts]`: command name -> `module:function` (before Python 3.11, which reads
    TOML, the installed package's entry points, which pip wrote from the same table)."""
    if sys.version_info >= (3, 11):
        import tomllib

        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        return dict(project["scripts"])
    from importlib.metadata import distribution

    points = distribution("zoo").entry_points
    return {p.name: p.value for p in points if p.group == "console_scripts"}


def has_parser(module: str) -> bool:
    """Whether the command's module builds its argparse parser in `build_parser()`."""
    return callable(getattr(importlib.import_module(module), "build_parser", None))


def help_command(name: str, target: str) -> list[str]:
    """The process that prints `name --help` as an installed console script would."""
    module, function = target.split(":")
    code = (
        f"import sys; sys.argv[0] = {name!r}; "
        f"from {module} import {function} as main; sys.argv[1:] = ['--help']; main()"
    )
    return [sys.executable, "-c", code]


def run_help(name: str, target: str) -> str:
    """What `name --help` prints; a failure is an error naming the command."""
    env = {**os.environ, "MPLBACKEND": "agg", "PYTHONPATH": str(ROOT), "COLUMNS": str(WIDTH)}
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            help_command(name, target),
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{name} --help failed ({done.returncode}): {done.stderr[-2000:]}")
    return wrapped(done.stdout.split(HYDRA_HELP_END)[0].rstrip())


def wrapped(text: str) -> str:
    """Lines longer than the page wrapped, the continuation indented (Hydra's lists of a
    group's options are one line each)."""
    lines = []
    for line in text.splitlines():
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        lines += textwrap.wrap(line, WIDTH, subsequent_indent=indent) or [""]
    return "\n".join(lines)


@cache
def help_texts() -> dict[str, str]:
    """`--help` of every command without a `build_parser()`, run side by side once per build."""
    wanted = {n: t for n, t in console_scripts().items() if not has_parser(t.split(":")[0])}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = {name: pool.submit(run_help, name, t) for name, t in wanted.items()}
    return {name: answer.result() for name, answer in answers.items()}


def indented(text: str, prefix: str = "   ") -> str:
    """`text` as the body of a directive."""
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def command_section(name: str, target: str) -> str:
    """rST of one command's section."""
    module = target.split(":")[0]
    title = f"``{name}``\n{'-' * (len(name) + 4)}\n\n"
    where = f"``{target}``; also ``python -m {module}``.\n\n"
    if has_parser(module):
        return (
            title
            + where
            + f".. argparse::\n   :module: {module}\n   :func: build_parser\n   :prog: {name}\n"
        )
    text = help_texts()[name]
    return title + where + f".. code-block:: text\n\n{indented(text)}\n"


class Commands(SphinxDirective):
    """Every console script, each documented from its parser or its `--help`."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(ROOT / "pyproject.toml"))
        try:
            sections = [command_section(n, t) for n, t in console_scripts().items()]
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            raise self.error(f"zoo-commands: {error}") from None
        return self.parse_text_to_nodes("\n\n".join(sections), allow_section_headings=True)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("zoo-commands", Commands)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
