"""The repository itself: lint, format, and CI running exactly the README's test command."""

import re
import shutil
import subprocess

import pytest
from conftest import ROOT


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command():
    test_command = next(c for c in readme_commands() if c.endswith("pytest"))
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


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


def card_numbers(card: dict) -> list[float]:
    """Every number a card holds: its metrics, and the settings of its data and task."""
    found = []
    for value in card.values():
        if isinstance(value, dict):
            found += card_numbers(value)
        elif isinstance(value, float | int) and not isinstance(value, bool):
            found.append(float(value))
    return found


def test_readme_table_matches_the_model_cards():
    """Each shipped model's row names its command and parameter count, and every number of its
    result cell is one its card holds (as rounded there; degrees, nats and the like as is)."""
    import zoo

    rows = {
        line.split("|")[1].strip(" `"): line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("| `")
    }
    for name in zoo.list_models(pretrained=True):
        card = zoo.model_card(name)
        assert f"{card['num_params']:,}" in rows[name], name
        assert card["command"] in rows[name], name
        numbers = card_numbers(card)
        for quoted in re.findall(r"\d+\.\d+", rows[name].split("|")[3]):
            digits = len(quoted.split(".")[1])
            held = any(round(abs(v), digits) == float(quoted) for v in numbers)
            assert held, f"{name}: README quotes {quoted}, its card holds no such number"
