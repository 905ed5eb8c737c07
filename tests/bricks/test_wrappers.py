import numpy
import pytest
from pytensor import tensor

from blocks.bricks import Brick, WithExtraDims, application
from blocks.bricks.base import Application


class Doubler(Brick):
    @application(inputs=['x', 'y'], outputs=['sum', 'x2'])
    def apply(self, x, y, unused=None):
        return x + y, 2 * x


class WrappedDoubler(Doubler):
    decorators = [WithExtraDims()]


def test_with_extra_dims_installs_application_and_delegate():
    assert isinstance(WrappedDoubler.apply, Application)
    assert WrappedDoubler.apply is not Doubler.apply
    brick = WrappedDoubler()
    assert brick.apply.inputs == ['x', 'y']
    assert brick.apply.outputs == ['sum', 'x2']
    assert brick.apply_delegate() is brick.apply_delegate()
    assert 'Doubler' in WrappedDoubler.__doc__


def test_with_extra_dims_reshapes_inputs_and_outputs():
    brick = WrappedDoubler()
    x, y = tensor.tensor4('x'), tensor.tensor4('y')
    total, doubled = brick.apply(x, y=y, extra_ndim=2, unused=1)
    assert total.ndim == doubled.ndim == 4
    assert total.name == 'wrappeddoubler_apply_sum'
    shape = (2, 3, 4, 5)
    value = numpy.ones(shape, dtype=x.dtype)
    assert tuple(total.shape.eval({x: value, y: value})) == shape
    # Without extra dimensions the inputs go straight through.
    matrix = tensor.matrix()
    assert brick.apply(matrix, matrix)[0].ndim == 2


def test_wrapper_needs_exactly_one_base():
    with pytest.raises(ValueError, match="can only wrap one class"):
        class Twice(Doubler, Brick):
            decorators = [WithExtraDims()]
