"""Sphinx configuration of the zoo's documentation site.

Build it with `sphinx-build -W --keep-going -b html docs docs/_build/html` (warnings are
errors). Nothing is downloaded: no intersphinx, the gallery's data come from scikit-learn's
bundled digits, generated data, `data/omniglot` and the shipped weights. The local extensions
in `docs/_ext` pull every result number from the cards and from `tests/SPREADS.md`, run the
commands whose help is shown, and fail the build on an undocumented public name.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(DOCS / "_ext"), str(ROOT)]
os.environ.setdefault("MPLBACKEND", "agg")  # the gallery's figures are drawn off-screen
# One thread per operation: the gallery's models are small, and on a machine shared with
# other work, threads that wait on each other make them many times slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import zoo  # noqa: E402  (after the path above, so the checkout's zoo is documented)

project = "zoo"
author = "the zoo's authors"
copyright = "the zoo's authors, MIT licence"
release = version = zoo.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "zoo_api",
    "zoo_commands",
    "zoo_coverage",
    "zoo_numbers",
    "zoo_tables",
    "zoo_xref",
]

exclude_patterns = ["_build", "gallery", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["zoo.css"]

# Docstrings quote code in single backticks; render it as code, not as italic citations.
default_role = "literal"
# A reference to a zoo name that does not resolve is an error; torch, numpy and the other
# libraries are not linked (no intersphinx: the build is offline), so their names are text.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!zoo\b).*")]

autodoc_member_order = "bysource"
# A method documents itself or not at all: an override without a docstring of its own (a
# Lightning hook) would otherwise show Lightning's, written for Lightning's own site.
autodoc_inherit_docstrings = False
autodoc_typehints = "signature"
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True

html_theme = "pydata_sphinx_theme"
html_title = f"zoo {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"index": [], "quickstart": [], "pretrained": [], "cli": []}
html_last_updated_fmt = None
html_copy_source = False

sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "write_computation_times": False,  # its page loads scripts from CDNs; the site is offline
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "capture_repr": (),
    "min_reported_time": 0,
    "show_memory": False,
    "show_signature": False,
}
