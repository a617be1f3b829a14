"""The repository itself: lint, format, and CI running exactly the README's test command."""

import re
import shutil
import subprocess

import pytest
from conftest import ROOT


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command_then_the_reproduce_tier():
    test_command = next(c for c in readme_commands() if c.endswith("pytest"))
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "pytest -m reproduce" in readme_commands()
    assert ci_lines.index(test_command) < ci_lines.index("pytest -m reproduce")


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff comes with the test extra")
@pytest.mark.parametrize("command", [["ruff", "check", "."], ["ruff", "format", "--check", "."]])
def test_ruff_is_clean(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy comes with the test extra")
def test_the_package_type_checks_clean():
    """mypy on zoo/ (settings in pyproject.toml): zero errors, and the package says it is typed."""
    result = subprocess.run(["mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert (ROOT / "zoo" / "py.typed").is_file()
