"""The ``>>>`` examples of the data layer's docstrings run as written."""
import doctest
import importlib
import pkgutil

import pytest

import blocks.data

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(blocks.data.__path__,
                                                'blocks.data.')
    if not info.name.endswith('.cli'))


@pytest.mark.parametrize('name', MODULES)
def test_docstring_examples(name, floatX):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_no_module_imports_pytensor():
    import subprocess
    import sys
    code = ('import sys, importlib\n'
            f'for name in {MODULES!r}: importlib.import_module(name)\n'
            'assert "pytensor" not in sys.modules')
    subprocess.run([sys.executable, '-c', code], check=True)
