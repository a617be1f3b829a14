"""One API reference page per package, generated from its `__all__`.

    .. zoo-api:: zoo.blocks

gives the package's docstring, a summary table of every public name, then each class (with
the methods it defines), function and constant, documented from its docstring by autodoc.
A name that another documented package already documents (the top-level `zoo` re-exports the
registry's functions) is listed and linked, not documented twice.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from zoo_public import PACKAGES, attribute_doc, home, kind, public_names

TITLES = {"class": "Classes", "function": "Functions", "data": "Constants"}
ORDER = ["module", *TITLES]


def by_kind(item: tuple[str, Any]) -> int:
    """Sort key of a public name: modules, classes, functions, then constants (stable)."""
    return ORDER.index(kind(item[1]))


def indented(text: str, prefix: str = "   ") -> str:
    """`text` as the body of a directive."""
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def entry(package: str, name: str, obj: Any) -> str:
    """The autodoc directive (or, for a constant, the description) of one public name."""
    what = kind(obj)
    if what == "class":
        return f".. autoclass:: {name}\n   :members:\n"
    if what == "function":
        return f".. autofunction:: {name}\n"
    doc = attribute_doc(package, name, obj)
    return f".. py:data:: {name}\n\n{indented(doc)}\n"


class PackageReference(SphinxDirective):
    """A package's reference: docstring, summary, then every public name by kind."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        package = self.arguments[0]
        names = public_names(package)
        parts = [
            f".. automodule:: {package}\n   :no-members:\n   :no-show-inheritance:\n",
            f".. currentmodule:: {package}\n",
            ".. autosummary::\n   :nosignatures:\n\n"
            + "\n".join(f"   {name}" for name, _ in sorted(names, key=by_kind))
            + "\n",
        ]
        for what, title in TITLES.items():
            owned = [
                (name, obj)
                for name, obj in names
                if kind(obj) == what and (package != "zoo" or home(id(obj)) is None)
            ]
            if owned:
                parts.append(f"{title}\n{'-' * len(title)}\n")
                parts += [entry(package, name, obj) for name, obj in owned]
        return self.parse_text_to_nodes("\n".join(parts), allow_section_headings=True)


def public_bases(
    app: Sphinx, name: str, obj: Any, options: dict[str, Any], bases: list[type]
) -> None:
    """An `autodoc-process-bases` handler: a class's bases as a reader can follow them, the
    zoo's internal protocols and helper bases (not in the reference) left out."""
    bases[:] = [
        base
        for base in bases
        if not getattr(base, "__module__", "").startswith("zoo") or home(id(base)) is not None
    ]


def constant_doc(
    app: Sphinx, what: str, name: str, obj: Any, options: dict[str, Any], lines: list[str]
) -> None:
    """An `autodoc-process-docstring` handler: a constant's summary is its own docstring, found
    in the module that defines it, never that of its type (a dict's)."""
    package, _, short = name.rpartition(".")
    if what == "data" and package in PACKAGES:
        lines[:] = attribute_doc(package, short, obj).splitlines()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("zoo-api", PackageReference)
    app.connect("autodoc-process-docstring", constant_doc)
    app.connect("autodoc-process-bases", public_bases)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
