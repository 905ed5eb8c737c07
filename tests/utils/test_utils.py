"""Tests of blocks.utils: the lazy package and the plain helpers."""
import subprocess
import sys
from collections import OrderedDict

import pytest

from blocks.utils import (change_recursion_limit, dict_subset, dict_union,
                          extract_args, find_bricks, pack, repr_attrs,
                          reraise_as, unpack)


def test_importing_utils_does_not_import_pytensor():
    code = ("import sys, blocks.utils; from blocks.utils import dict_union;"
            "print('pytensor' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == 'False'


def test_lazy_names_and_unknown_names():
    import blocks.utils
    assert blocks.utils.shared_floatx.__module__ == (
        'blocks.utils.theano_utils')
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        blocks.utils.nonexistent


def test_pack_and_unpack():
    assert pack((1, 2)) == [1, 2]
    assert pack('a') == ['a']
    assert unpack([1]) == 1
    assert unpack((1, 2)) == [1, 2]
    assert unpack(3) == 3
    with pytest.raises(ValueError, match="Expected a singleton"):
        unpack([1, 2], singleton=True)


def test_reraise_as_extends_the_message_and_keeps_the_type():
    with pytest.raises(KeyError) as info:
        try:
            raise KeyError('inner')
        except KeyError:
            reraise_as("outer")
    message = info.value.args[0]
    assert message.startswith('outer\n\nOriginal exception:\n\tKeyError')
    assert "inner" in message
    assert isinstance(info.value.__cause__, KeyError)


def test_reraise_as_a_new_exception():
    with pytest.raises(ValueError, match="(?s)new.*Original exception.*"
                                         "ZeroDivisionError"):
        try:
            1 / 0
        except ZeroDivisionError:
            reraise_as(ValueError("new"))


def test_dict_subset():
    d = {'a': 1, 'b': 2, 'c': 3}
    assert dict_subset(d, ['c', 'a']) == OrderedDict([('c', 3), ('a', 1)])
    with pytest.raises(KeyError):
        dict_subset(d, ['z'])
    assert dict_subset(d, ['z', 'b'], must_have=False) == {'b': 2}
    dict_subset(d, ['a'], pop=True)
    assert d == {'b': 2, 'c': 3}


def test_dict_union():
    assert dict_union({'a': 1}, {'b': 2}, c=3) == {'a': 1, 'b': 2, 'c': 3}
    assert isinstance(dict_union(OrderedDict(a=1)), OrderedDict)
    with pytest.raises(ValueError, match="duplicate entries: a"):
        dict_union({'a': 1}, a=2)


def test_extract_args():
    assert extract_args(['a', 'b'], 1, b=2) == OrderedDict(a=1, b=2)
    with pytest.raises(KeyError, match="invalid input name: c"):
        extract_args(['a'], c=1)
    with pytest.raises(TypeError, match="multiple values for argument 'a'"):
        extract_args(['a'], 1, a=2)
    with pytest.raises(ValueError, match="missing values for inputs"):
        extract_args(['a', 'b'], 1)


def test_repr_attrs():
    class Thing:
        size = 3

    text = repr_attrs(Thing(), 'size')
    assert text.endswith(': size=3>')
    assert repr_attrs(Thing()).endswith('>')


def test_change_recursion_limit_only_raises_and_restores():
    old = sys.getrecursionlimit()
    with change_recursion_limit(old + 100):
        assert sys.getrecursionlimit() == old + 100
    assert sys.getrecursionlimit() == old
    with change_recursion_limit(10):
        assert sys.getrecursionlimit() == old


def test_find_bricks_is_breadth_first_and_visits_each_once():
    class Node:
        def __init__(self, name, children=()):
            self.name = name
            self.children = list(children)

    shared = Node('shared')
    tree = Node('top', [Node('a', [shared]), Node('b', [shared])])
    names = [node.name for node in find_bricks([tree], lambda node: True)]
    assert names == ['top', 'a', 'b', 'shared']
    assert find_bricks([tree], lambda node: node.name == 'b')[0].name == 'b'
