import numpy
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.bricks.lookup import LookupTable
from blocks.compilation import function
from blocks.initialization import IsotropicGaussian
from blocks.roles import WEIGHT


def test_lookup_table_against_numpy():
    lookup = LookupTable(5, 3, weights_init=IsotropicGaussian(), seed=2)
    lookup.initialize()
    indices = tensor.lmatrix('indices')
    output = lookup.apply(indices)
    assert output.name == 'lookuptable_apply_output'
    values = numpy.array([[0, 4], [2, 2], [1, 3]], dtype='int64')
    result = function([indices], output)(values)
    W = lookup.W.get_value()
    assert result.shape == (3, 2, 3)
    assert_allclose(result, W[values])


def test_lookup_table_parameter_and_dims():
    lookup = LookupTable(length=5, dim=3)
    lookup.allocate()
    W, = lookup.parameters
    assert W is lookup.W and W.name == 'W' and W.tag.roles == [WEIGHT]
    assert W.get_value().shape == (5, 3)
    assert lookup.get_dims(['indices', 'output']) == [0, 3]
    with pytest.raises(ValueError, match="No dimension information"):
        lookup.get_dim('foo')
    assert lookup.input_dim == 0
    lookup.input_dim = 0
    with pytest.raises(ValueError, match="input must be integer"):
        lookup.input_dim = 3
    lookup.output_dim = 4
    assert lookup.dim == 4


def test_lookup_table_rejects_float_indices():
    with pytest.raises(ValueError, match="Wrong dtype prefix"):
        LookupTable(5, 3).apply(tensor.matrix())


def test_lookup_table_without_length_names_it():
    with pytest.raises(ValueError, match=r"LookupTable /lookuptable needs "
                       r"length: set it"):
        LookupTable(dim=3).allocate()
