"""The documented surface: every public class, method and function that `zoo.blocks`,
`zoo.patterns` and `zoo` (the hub's functions) export (their `__all__`) has a docstring, `forward` included. Methods that a
class inherits from torch are not the zoo's to document; those the zoo defines or overrides
are, in every zoo class along the way (a base such as `Head` included)."""

import inspect
import types

import pytest
from torch import nn

import zoo
import zoo.blocks
import zoo.patterns


def zoo_members(package: types.ModuleType):
    """(name, object) for each exported class and function, and for each public method,
    property, static or class method that a zoo class defines in its own body."""
    for name in package.__all__:
        obj = getattr(package, name)
        if inspect.isfunction(obj):
            yield name, obj
        if not inspect.isclass(obj):
            continue
        yield name, obj
        for klass in obj.__mro__:
            if not klass.__module__.startswith("zoo."):
                continue
            for attr, value in vars(klass).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, staticmethod | classmethod):
                    value = value.__func__
                if isinstance(value, property):
                    value = value.fget
                if inspect.isfunction(value):
                    yield f"{klass.__name__}.{attr}", value


def undocumented(package: types.ModuleType) -> list[str]:
    return sorted({name for name, obj in zoo_members(package) if not (obj.__doc__ or "").strip()})


@pytest.mark.parametrize("package", [zoo.blocks, zoo.patterns, zoo], ids=lambda p: p.__name__)
def test_every_public_class_and_method_has_a_docstring(package):
    assert undocumented(package) == []


def test_the_walk_finds_what_lacks_a_docstring():
    class Bare(nn.Module):
        def forward(self, x):
            return x

        def helper(self):
            """Documented."""

        def train(self, mode=True):  # overrides nn.Module.train: the zoo's to document
            return super().train(mode)

    Bare.__module__ = "zoo.fake"
    fake = types.ModuleType("zoo.fake")
    fake.Bare, fake.__all__ = Bare, ["Bare"]
    assert undocumented(fake) == ["Bare", "Bare.forward", "Bare.train"]


def test_patterns_with_heads_say_how_a_plain_loop_uses_them():
    for name in zoo.patterns.__all__:
        pattern = getattr(zoo.patterns, name)
        takes = inspect.signature(pattern).parameters
        if "head" in takes:
            assert "`.head`" in pattern.__doc__, name
        if "heads" in takes:
            assert "`.heads`" in pattern.__doc__, name
