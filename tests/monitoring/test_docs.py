"""The ``>>>`` examples of the monitoring docs and docstrings run."""
import doctest
import importlib
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / 'docs' / 'monitoring.rst'
MODULES = ['blocks.monitoring.aggregation', 'blocks.monitoring.evaluators',
           'blocks.extensions.monitoring', 'blocks.extensions.training',
           'blocks.extensions.stopping', 'blocks.extensions.record_watch']


@pytest.mark.parametrize('name', MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_monitoring_guide_examples():
    result = doctest.testfile(str(DOCS), module_relative=False,
                              optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 20
