"""Fail the build on an undocumented public name.

Once every page is read, each name in the `__all__` of `zoo`, `zoo.blocks`, `zoo.patterns`,
`zoo.data`, `zoo.tasks` and `zoo.registry` must

- have a docstring of its own (a class's, not one it inherits; a constant's string literal
  after its assignment), and
- appear in the API reference, under its package's name or, for the names the top-level `zoo`
  re-exports, under the package that documents them.

Each miss is a warning naming it, and the build treats warnings as errors.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from zoo_public import PACKAGES, docstring, home, public_names

logger = logging.getLogger(__name__)


def problems(env: BuildEnvironment) -> list[str]:
    """What is wrong with the documented surface, one line per name."""
    python = env.domains["py"]
    known = set(python.objects) | set(python.modules)
    found = []
    for package in PACKAGES:
        for name, obj in public_names(package):
            full = f"{package}.{name}"
            if not docstring(package, name, obj):
                found.append(f"{full} has no docstring")
            if full not in known and home(id(obj)) not in known:
                found.append(f"{full} is not in the API reference")
    return found


def check(app: Sphinx, env: BuildEnvironment) -> None:
    """An `env-check-consistency` handler: one warning per problem."""
    for problem in problems(env):
        logger.warning("undocumented public name: %s", problem, type="zoo", subtype="coverage")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-check-consistency", check)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
