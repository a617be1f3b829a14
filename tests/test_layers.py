"""The package's layers: imports only point down (DESIGN.md; the README's Layout section draws
them), checked on every module's source.

utilities <- blocks <- patterns <- data / tasks / callbacks / analysis <- training (the engine)
<- registry <- commands <- bench

Every module belongs to exactly one layer, by the package it sits in (or, for the few modules
at the package root, by name); a module that belongs to none fails the test. Modules of one
layer may import each other (a task uses a data helper); only an import from a higher layer
is refused.
"""

import ast
from pathlib import Path

import pytest
from conftest import ROOT

LAYERS = [
    ("zoo.utils",),
    ("zoo.blocks",),
    ("zoo.patterns",),
    ("zoo.data", "zoo.tasks", "zoo.callbacks", "zoo.analysis"),
    ("zoo.training",),
    ("zoo.registry", "zoo", "zoo.hub"),  # `zoo` itself is the registry's facade
    ("zoo.cli", "zoo.train", "zoo.conditioning", "zoo.conf"),
    ("zoo.bench",),
]
ROOT_MODULES = {"zoo.hub", "zoo.train", "zoo.conditioning"}  # besides zoo/__init__.py: <= 3


def layer(module: str) -> int:
    """The layer of a zoo module: its package's (`zoo.tasks.gan` -> tasks), or its own for the
    package itself and the modules at its root; no match is an error."""
    found = [
        i
        for i, names in enumerate(LAYERS)
        for name in names
        if module == name or (name != "zoo" and module.startswith(name + "."))
    ]
    if len(found) != 1:
        raise AssertionError(f"{module} belongs to {len(found)} layers: add it to LAYERS once")
    return found[0]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether `from zoo import name` imports a module (else a name the package defines)."""
    return (ROOT / "zoo" / name).is_dir() or (ROOT / "zoo" / f"{name}.py").is_file()


def zoo_imports(source: str) -> set[str]:
    """Every zoo module a source imports, at any depth (function-level imports included); the
    zoo uses absolute imports only."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import of {node.module}: write it absolute"
            base = node.module or ""
            found |= {
                f"zoo.{a.name}" if base == "zoo" and is_module(a.name) else base for a in node.names
            }
    return {m for m in found if m == "zoo" or m.startswith("zoo.")}


def violations(module: str, source: str) -> list[str]:
    own = layer(module)
    return [
        f"{module} (layer {own}) imports {target} (layer {layer(target)})"
        for target in sorted(zoo_imports(source))
        if layer(target) > own
    ]


def modules() -> list[str]:
    return [module_name(path) for path in sorted((ROOT / "zoo").rglob("*.py"))]


def test_no_module_imports_from_a_higher_layer():
    found = []
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        found += violations(module_name(path), path.read_text())
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("zoo.tasks.distillation", "from zoo.registry import load_model"),
        ("zoo.tasks.gan", "def f():\n    from zoo.cli.judge import main"),
        ("zoo.blocks.mlp", "import zoo.patterns.classifier"),
        ("zoo.patterns.vae", "from zoo import registry"),
        ("zoo.training.fitting", "from zoo.registry import start_from"),
        ("zoo.callbacks.safeguards", "from zoo.training.run import train"),
        ("zoo.utils.builder", "from zoo.blocks import MLP"),
        ("zoo.cli.eval", "from zoo.bench import steps"),
    ],
)
def test_the_check_finds_an_upward_import(module, source):
    assert violations(module, source)


@pytest.mark.parametrize("module", ["zoo.stray", "zoo.helpers.misc", "zoo.utilsx"])
def test_a_module_of_no_layer_fails(module):
    with pytest.raises(AssertionError, match="belongs to 0 layers"):
        layer(module)


def test_every_shipped_module_has_one_layer_and_the_root_stays_small():
    for module in modules():
        layer(module)
    root = {m for m in modules() if m.count(".") == 1 and m != "zoo"}
    root -= {m for m in root if (ROOT / Path(*m.split("."))).is_dir()}  # packages
    assert root == ROOT_MODULES and len(root) <= 3, root


def test_every_callback_lives_in_zoo_callbacks():
    """Lightning and Hydra callbacks: one room for them all."""
    found = []
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "attr", getattr(b, "id", "")) for b in node.bases}
                if bases & {"Callback", "ProgressBar", "TQDMProgressBar", "ModelCheckpoint"}:
                    found.append((module_name(path), node.name))
    assert found and all(m.startswith("zoo.callbacks.") for m, _ in found), found
