"""Links to zoo objects by any of their names.

A class is defined in one module (`zoo.blocks.heads.Head`) and documented where users import
it (`zoo.blocks.Head`); type hints and base classes name the first, pages may name either. A
reference that Sphinx cannot resolve is looked up by the object it names: if the reference
documents that same object under another name, the link goes there.

What still does not resolve is an error (the build runs nitpicky), except inside a signature:
a type hint may name a helper type that is not part of the public API (an internal protocol or
alias), and is then shown as plain text.
"""

from __future__ import annotations

import pkgutil
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.nodes import make_refnode

_documented: dict[int, tuple[str, str, str]] = {}  # id(object) -> (name, docname, node id)


def named(target: str) -> Any:
    """The object a dotted name names, or None."""
    try:
        return pkgutil.resolve_name(target)
    except (ImportError, AttributeError, ValueError):
        return None


def documented(env: BuildEnvironment) -> dict[int, tuple[str, str, str]]:
    """Every documented zoo class, function, method and module by the id of its object."""
    if not _documented:
        for name, entry in env.domains["py"].objects.items():
            obj = named(name) if name.startswith("zoo") else None
            if callable(obj) or type(obj).__name__ == "module":
                _documented.setdefault(id(obj), (name, entry.docname, entry.node_id))
    return _documented


def resolve(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """A `missing-reference` handler: link to the documented name of the same object."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("zoo"):
        return None
    obj = named(target)
    found = documented(env).get(id(obj)) if obj is not None else None
    if found:
        name, docname, node_id = found
        return make_refnode(app.builder, node["refdoc"], docname, node_id, contnode, name)
    inside_signature = any(isinstance(p, addnodes.desc_signature) for p in ancestors(node))
    return contnode if inside_signature else None


def ancestors(node: nodes.Node) -> list[nodes.Node]:
    """The node's parents, nearest first."""
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def forget(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Start each build from the documented names of that build."""
    _documented.clear()


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", resolve)
    app.connect("env-before-read-docs", forget)
    return {"parallel_read_safe": True, "parallel_write_safe": False}
