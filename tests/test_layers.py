"""The package's layers: imports only point down (DESIGN.md), checked on every module's source.

utilities <- blocks <- patterns <- data / tasks / analysis <- registry (hub, presets) <- commands / train

Modules of one layer may import each other (a task uses a data helper, a command another's
table); only an import from a higher layer is refused.
"""

import ast
from pathlib import Path

import pytest
from conftest import ROOT

LAYERS = [
    (
        "zoo.atomic",
        "zoo.builder",
        "zoo.initialization",
        "zoo.plots",
        "zoo.preprocessing",
        "zoo.safe_files",
    ),
    ("zoo.blocks",),
    ("zoo.patterns",),
    (
        "zoo.data",
        "zoo.tasks",
        "zoo.callbacks",
        "zoo.analysis",
        "zoo.figures",
        "zoo.oneshot",
        "zoo.baselines",
    ),
    ("zoo.hub", "zoo.presets", "zoo.registry", "zoo"),
    ("zoo.cli", "zoo.train", "zoo.bench", "zoo.conditioning", "zoo.conf"),
]


def layer(module: str) -> int:
    """The layer of a zoo module: the longest matching prefix wins (`zoo` itself is the hub's
    facade)."""
    matches = [
        (len(prefix), i)
        for i, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return max(matches)[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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
            found |= {f"{base}.{a.name}" if base == "zoo" else base for a in node.names}
    return {m for m in found if m == "zoo" or m.startswith("zoo.")}


def violations(module: str, source: str) -> list[str]:
    own = layer(module)
    return [
        f"{module} (layer {own}) imports {target} (layer {layer(target)})"
        for target in sorted(zoo_imports(source))
        if layer(target) > own
    ]


def test_no_module_imports_from_a_higher_layer():
    found = []
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        found += violations(module_name(path), path.read_text())
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("zoo.tasks.distillation", "from zoo.hub import load_model"),
        ("zoo.tasks.gan", "def f():\n    from zoo.cli.judge import main"),
        ("zoo.blocks.mlp", "import zoo.patterns.classifier"),
        ("zoo.patterns.vae", "from zoo import hub"),
    ],
)
def test_the_check_finds_an_upward_import(module, source):
    assert violations(module, source)


def test_the_shipped_layout_maps_every_module():
    for path in (ROOT / "zoo").rglob("*.py"):
        layer(module_name(path))
