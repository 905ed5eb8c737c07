import numpy
import pytest
import pytensor
from pytensor import tensor
from pytensor.compile.mode import Mode
from pytensor.tensor.random.variable import shared_rng

from blocks.utils.theano_utils import (
    check_theano_variable, is_graph_input, is_shared_variable, put_hook,
    shared_floatx, shared_floatx_nans, shared_floatx_zeros,
    shared_floatx_zeros_matching, shared_like)


def test_shared_floatx_uses_floatx_unless_dtype_given():
    assert shared_floatx([1, 2]).dtype == pytensor.config.floatX
    variable = shared_floatx([1, 2], name='v', dtype='float32')
    assert variable.dtype == 'float32'
    assert variable.name == 'v'


def test_shared_floatx_zeros_and_nans():
    assert (shared_floatx_zeros((2, 3)).get_value() == 0).all()
    assert numpy.isnan(shared_floatx_nans((2, 3)).get_value()).all()


def test_shared_floatx_zeros_matching_keeps_shape_and_broadcastable():
    original = shared_floatx(numpy.ones((3, 1)), shape=(None, 1))
    zeros = shared_floatx_zeros_matching(original, name='z')
    assert zeros.get_value().shape == (3, 1)
    assert zeros.broadcastable == (False, True)
    assert zeros.name == 'z'
    assert not zeros.get_value().any()


def test_shared_floatx_zeros_matching_rejects_non_shared():
    with pytest.raises(ValueError, match='argument must be a shared'):
        shared_floatx_zeros_matching(tensor.matrix())


def test_shared_like_has_dtype_ndim_and_default_name():
    variable = tensor.matrix('x', dtype='int32')
    holder = shared_like(variable)
    assert holder.name == 'shared_x'
    assert holder.dtype == 'int32'
    assert holder.ndim == 2


def test_check_theano_variable():
    check_theano_variable(None, 3, 'float')
    check_theano_variable([[1, 2]], 2, 'int')
    check_theano_variable(tensor.matrix(), None, None)
    with pytest.raises(ValueError, match='Wrong number of dimensions'):
        check_theano_variable(tensor.vector(), 2, None)
    with pytest.raises(ValueError, match='Wrong dtype prefix'):
        check_theano_variable(tensor.lvector(), 1, 'float')


def test_is_graph_input_and_is_shared_variable():
    x = tensor.vector()
    shared = shared_floatx([1.])
    rng = shared_rng(numpy.random.default_rng(1))
    assert is_graph_input(x)
    assert not is_graph_input(x + 1)
    assert not is_graph_input(shared)
    assert not is_graph_input(tensor.constant(1.))
    assert is_shared_variable(shared)
    assert not is_shared_variable(rng)
    assert not is_shared_variable(x)


def test_put_hook_calls_function_with_value_and_args():
    calls = []
    x = tensor.vector('x')
    hooked = put_hook(x * 2, lambda value, extra: calls.append((value, extra)),
                      'extra')
    pytensor.function([x], hooked, mode=Mode(linker='py'))(
        numpy.array([1., 2.], dtype=x.dtype))
    (value, extra), = calls
    numpy.testing.assert_allclose(value, [2., 4.])
    assert extra == 'extra'
