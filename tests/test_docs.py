"""The documentation site: it builds with warnings as errors, and its pages render in a real
browser with every image loaded. Quick tests check, without a build, what the build's own
checks enforce: every public name has a docstring, every proof a page cites is in the spread
record, and a result typed into a page's prose is caught.

The build is `sphinx-build -W --keep-going -b html docs <out>` (the README's command), run here
unless `ZOO_DOCS_HTML` names a site already built. The pages are opened in headless Chromium
through selenium; screenshots of each go to `ZOO_SCREENSHOTS` (default: the test's tmp_path).
Without Chromium, chromedriver or the docs extra (`pip install -e ".[docs]"`), the test skips
and says which is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))  # the site's local Sphinx extensions
needs_sphinx = pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None,
    reason="needs the docs extra: pip install -e '.[docs]'",
)

PAGES = {
    "home": "index.html",
    "pattern_modulation": "patterns/modulation.html",
    "pattern_encoder_decoder": "patterns/encoder_decoder.html",
    "gallery": "auto_examples/index.html",
}
EAGER = "Array.from(document.images).forEach(img => { img.loading = 'eager'; });"
ALL_SETTLED = "return Array.from(document.images).every(img => img.complete);"
IMAGES_LOADED = """
const images = Array.from(document.images);
return images.map(img => [img.currentSrc || img.src, img.complete && img.naturalWidth > 0]);
"""
PAGE_HEIGHT = "return document.documentElement.scrollHeight;"


def missing_tools() -> list[str]:
    """What the browser test needs and this machine lacks."""
    missing = [tool for tool in ("chromium", "chromedriver") if shutil.which(tool) is None]
    missing += [
        f"the python package {name} (pip install -e '.[docs]')"
        for name in ("sphinx", "sphinx_gallery", "selenium")
        if importlib.util.find_spec(name) is None
    ]
    return missing


def built_site(tmp_path: Path) -> Path:
    """The built HTML: `ZOO_DOCS_HTML` if set, else a fresh build (warnings are errors)."""
    given = os.environ.get("ZOO_DOCS_HTML")
    if given:
        return Path(given)
    out = tmp_path / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", out]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return out


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by selenium, closed after the module."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


@pytest.mark.slow
@pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())}")
def test_the_site_builds_and_its_pages_load_every_image(browser, tmp_path):
    """Proves: the site builds under `-W`, and the home page, two pattern pages and the
    gallery open in Chromium with every <img> loaded (complete, with a natural width)."""
    from selenium.webdriver.support.ui import WebDriverWait

    site = built_site(tmp_path)
    shots = Path(os.environ.get("ZOO_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    for name, page in PAGES.items():
        path = site / page
        assert path.is_file(), f"{page} was not built"
        browser.set_window_size(1400, 1000)
        browser.get(path.resolve().as_uri())
        browser.execute_script(EAGER)  # images below the fold load now, not when scrolled to
        WebDriverWait(browser, 30).until(lambda b: b.execute_script(ALL_SETTLED))
        images = browser.execute_script(IMAGES_LOADED)
        broken = [src for src, loaded in images if not loaded]
        assert not broken, f"{page}: images that did not load: {broken}"
        if name.startswith("pattern") or name == "gallery":
            assert images, f"{page} shows no figure"
        browser.set_window_size(1400, min(browser.execute_script(PAGE_HEIGHT), 3200))
        assert browser.save_screenshot(str(shots / f"{name}.png")), name
        assert (shots / f"{name}.png").stat().st_size > 0


@needs_sphinx
def test_every_public_name_has_the_docstring_the_reference_shows():
    """What the build's coverage check fails on, found without a build."""
    from zoo_public import PACKAGES, docstring, public_names

    bare = [
        f"{package}.{name}"
        for package in PACKAGES
        for name, obj in public_names(package)
        if not docstring(package, name, obj)
    ]
    assert bare == []


@needs_sphinx
def test_every_proof_a_page_cites_is_in_the_spread_record():
    """A renamed or dropped proof fails here, in the quick tier, before the build."""
    import re

    from zoo_tables import SPREADS, spread_rows

    recorded = spread_rows(SPREADS.read_text())
    cited = [
        test
        for page in sorted(DOCS.rglob("*.rst"))
        if "_build" not in page.parts and "auto_examples" not in page.parts
        for block in re.findall(
            r"\.\. zoo-spread:: (.*?)\n(?=\S|\n\S|\n\n)", page.read_text(), re.S
        )
        for test in block.split()
        if test.startswith("test_")
    ]
    assert cited, "no page cites a proof"
    assert [test for test in cited if test not in recorded] == []


@needs_sphinx
def test_the_number_check_flags_results_and_leaves_settings_and_code():
    from zoo_numbers import RESULT, prose_lines

    page = """Title
=====

Residual nets reach 0.95, plain ones 31% with 53,002 weights, 17x slower.
Fifty layers, T=20, 5-way episodes, an 8x8 digit, ``lr=0.003``, Hinton et al. 2015.

.. code-block:: bash

   python train.py optimizer.lr=0.02

.. figure:: plot_001.png
   :width: 80%

   A caption that says 0.5.
"""
    found = [m.group(0) for _, line in prose_lines(page) for m in RESULT.finditer(line)]
    assert found == ["0.95", "31%", "53,002", "17x", "0.5"]


@needs_sphinx
def test_every_console_script_is_documented_from_its_parser_or_its_help():
    """The command-line reference documents each console script: from `build_parser()` where
    the command has one (its parser, as `main` uses it), else from its `--help`."""
    import argparse
    import importlib

    from zoo_commands import console_scripts

    with_parser = []
    for name, target in console_scripts().items():
        module = importlib.import_module(target.split(":")[0])
        if hasattr(module, "build_parser"):
            assert isinstance(module.build_parser(), argparse.ArgumentParser), name
            with_parser.append(name)
    assert {"zoo-eval", "zoo-predict", "zoo-publish", "zoo-bench"} <= set(with_parser)
