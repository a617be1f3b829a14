"""The zoo's public API as the reference documents it: each package's `__all__`, what kind of
name each entry is, and where a constant's docstring lives.

Shared by the reference directive (`zoo_api`), the coverage check (`zoo_coverage`) and the
resolver of re-exported names (`zoo_xref`), so the three agree on what "public" means.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from functools import cache
from typing import Any

from sphinx.pycode import ModuleAnalyzer

PACKAGES = ("zoo", "zoo.blocks", "zoo.patterns", "zoo.data", "zoo.tasks", "zoo.registry")
"""The packages whose `__all__` the API reference documents, name by name."""


def public_names(package: str) -> list[tuple[str, Any]]:
    """(name, object) for each entry of the package's `__all__`, in its order."""
    module = importlib.import_module(package)
    return [(name, getattr(module, name)) for name in module.__all__]


def kind(obj: Any) -> str:
    """`module`, `class`, `function` or `data`: how the reference documents the object."""
    if isinstance(obj, types.ModuleType):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


@cache
def _attribute_docs(module: str) -> dict[tuple[str, str], list[str]]:
    try:
        return ModuleAnalyzer.for_module(module).find_attr_docs()
    except Exception:  # a module without source (a compiled one): no attribute docstrings
        return {}


def attribute_doc(package: str, name: str, obj: Any) -> str:
    """The docstring of a module-level constant: the string literal after its assignment (or
    a `#:` comment) in whichever of the package's modules defines it; empty if none does."""
    modules = sorted(m for m in sys.modules if m == package or m.startswith(package + "."))
    for module in modules:
        if getattr(sys.modules[module], name, None) is not obj:
            continue
        doc = _attribute_docs(module).get(("", name))
        if doc:
            return "\n".join(doc).strip()
    return ""


def docstring(package: str, name: str, obj: Any) -> str:
    """The object's own docstring (a class's, not one it inherits), or a constant's."""
    if kind(obj) == "data":
        return attribute_doc(package, name, obj)
    return (getattr(obj, "__doc__", None) or "").strip()


@cache
def home(obj_id: int) -> str | None:
    """The fully qualified name under which the reference documents the object with this id
    (a package of `PACKAGES` other than `zoo` itself), if any."""
    for package in PACKAGES[1:]:
        for name, obj in public_names(package):
            if id(obj) == obj_id:
                return f"{package}.{name}"
    return None
