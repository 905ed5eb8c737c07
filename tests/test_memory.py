"""blocks.memory: glibc keeps freed memory for the next call."""
import os
import platform
import subprocess
import sys

import pytest

ON_GLIBC = platform.libc_ver()[0] == 'glibc'
CODE = """
from blocks.memory import keep_freed_memory
first = keep_freed_memory()
print(first, keep_freed_memory() is first)
"""


def _run(code=CODE, **environment):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('MALLOC_')}
    env.update(environment)
    process = subprocess.run([sys.executable, '-c', code], env=env,
                             capture_output=True, text=True, check=True)
    return process.stdout.split()


@pytest.mark.skipif(not ON_GLIBC, reason='mallopt thresholds are glibc')
def test_thresholds_are_raised_once():
    assert _run() == ['True', 'True']


def test_the_option_turns_it_off():
    assert _run(BLOCKS_KEEP_FREED_MEMORY='false') == ['False', 'True']


def test_glibc_variables_of_the_user_win():
    assert _run(MALLOC_TRIM_THRESHOLD_='131072') == ['False', 'True']


def test_compiling_a_function_keeps_freed_memory():
    code = ("import blocks.memory as m, pytensor.tensor as t\n"
            "from blocks.compilation import function\n"
            "x = t.vector('x'); function([x], x + 1)\n"
            "ran = m.keep_freed_memory.cache_info().currsize == 1\n"
            "print(ran and m.keep_freed_memory())")
    assert _run(code)[-1] == str(ON_GLIBC)
