"""Sphinx configuration for the blocks documentation."""
import os
import sys

sys.path.insert(0, os.path.abspath('..'))

from blocks.version import version  # noqa: E402

project = 'blocks'
copyright = '2026, the blocks developers'
release = version
extensions = ['myst_parser', 'sphinx.ext.autodoc', 'sphinx.ext.napoleon',
              'sphinx.ext.doctest', 'sphinx.ext.todo', 'sphinx.ext.viewcode']
# Docstring examples run under pytest with their module's names in scope;
# `sphinx -b doctest` only runs the explicit `.. doctest::` blocks.
doctest_test_doctest_blocks = ''
napoleon_numpy_docstring = True
napoleon_google_docstring = False
autodoc_member_order = 'bysource'
exclude_patterns = ['_build']
html_theme = 'alabaster'
nitpicky = False
suppress_warnings = ['ref.python']
