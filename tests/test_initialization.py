import re

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose, assert_equal

from blocks.initialization import (Constant, Identity, IsotropicGaussian,
                                   Orthogonal, Sparse, SparseND, Uniform)
from blocks.utils import shared_floatx_nans

FLOATX = pytensor.config.floatX


def rng(seed=1):
    return numpy.random.RandomState(seed)


@pytest.mark.parametrize('shape', [(), (5,), (3, 4), (2, 3, 4)])
def test_constant_fills_shape(shape):
    result = Constant(5.).generate(rng(), shape)
    assert result.shape == shape
    assert result.dtype == FLOATX
    assert_equal(result, 5.)


def test_constant_broadcasts_an_array():
    result = Constant([1, 2, 3]).generate(rng(), (2, 3))
    assert_equal(result, [[1, 2, 3], [1, 2, 3]])


def test_constant_rejects_a_shape_it_can_not_broadcast_to():
    with pytest.raises(ValueError, match=r"can not be broadcast.*\(2, 4\)"):
        Constant([1, 2, 3]).generate(rng(), (2, 4))


def test_isotropic_gaussian_draws_normal_with_std_first():
    scheme = IsotropicGaussian(2., 1.)
    assert scheme.std == 2. and scheme.mean == 1.
    result = scheme.generate(rng(), (500, 400))
    assert result.dtype == FLOATX
    assert_allclose(result, rng().normal(1., 2., size=(500, 400)))
    assert abs(result.mean() - 1.) < 0.02
    assert abs(result.std() - 2.) < 0.02


def test_uniform_with_width_and_with_std():
    result = Uniform(mean=1., width=2.).generate(rng(), (400, 500))
    assert result.dtype == FLOATX
    assert_allclose(result, rng().uniform(0., 2., (400, 500)))
    assert result.min() >= 0. and result.max() <= 2.
    by_std = Uniform(std=2.).generate(rng(), (400, 500))
    assert abs(by_std.std() - 2.) < 0.02
    assert Uniform(std=2.).width == pytest.approx(numpy.sqrt(12) * 2.)


@pytest.mark.parametrize('kwargs', [{}, {'width': 1., 'std': 1.}])
def test_uniform_needs_exactly_one_of_width_and_std(kwargs):
    with pytest.raises(ValueError, match="must specify width or std, but not"):
        Uniform(**kwargs)


@pytest.mark.parametrize('shape', [(3, 3), (3, 5), (5, 3)])
def test_identity(shape):
    result = Identity(2.).generate(rng(), shape)
    assert result.dtype == FLOATX
    assert_equal(result, 2. * numpy.eye(*shape))


@pytest.mark.parametrize('scheme', [Identity(), Orthogonal(),
                                    Sparse(1, Constant(1.))],
                         ids=['Identity', 'Orthogonal', 'Sparse'])
@pytest.mark.parametrize('shape', [(4,), (2, 3, 4)])
def test_matrix_schemes_reject_other_shapes(scheme, shape):
    name = scheme.__class__.__name__
    with pytest.raises(ValueError, match=rf"{name} initialization only works "
                       rf"for matrices \(2-D shapes\), got shape "
                       + re.escape(str(shape))):
        scheme.generate(rng(), shape)


@pytest.mark.parametrize('shape', [(5, 5), (4, 7), (7, 4)])
def test_orthogonal_is_orthogonal(shape):
    result = Orthogonal(scale=1.5).generate(rng(), shape)
    assert result.shape == shape
    assert result.dtype == FLOATX
    rows, cols = shape
    if rows <= cols:
        assert_allclose(result.dot(result.T), 2.25 * numpy.eye(rows),
                        atol=1e-6)
    else:
        assert_allclose(result.T.dot(result), 2.25 * numpy.eye(cols),
                        atol=1e-6)


def test_orthogonal_square_follows_the_reference_rule():
    result = Orthogonal().generate(rng(3), (4, 4))
    q, r = numpy.linalg.qr(rng(3).randn(4, 4))
    assert_allclose(result, q * numpy.sign(numpy.diag(r)))


def test_sparse_initializes_num_init_entries_per_row():
    result = Sparse(3, Constant(1.), sparse_init=Constant(-1.)).generate(
        rng(), (10, 8))
    assert result.dtype == FLOATX
    assert_equal((result == 1.).sum(axis=1), 3)
    assert_equal((result == -1.).sum(axis=1), 5)


def test_sparse_with_a_fraction():
    result = Sparse(0.5, IsotropicGaussian(1., 10.)).generate(rng(), (6, 8))
    assert_equal((result != 0.).sum(axis=1), 4)


def test_sparse_same_rng_same_result():
    scheme = Sparse(2, IsotropicGaussian())
    assert_equal(scheme.generate(rng(4), (5, 6)),
                 scheme.generate(rng(4), (5, 6)))


@pytest.mark.parametrize('num_init, message', [
    (0, 'positive number'), (-2, 'positive number'),
    (1.5, r'in \(0, 1\]'), (0., r'in \(0, 1\]'),
    (9, 'only 8 columns')])
def test_sparse_rejects_bad_num_init(num_init, message):
    with pytest.raises(ValueError, match=message):
        Sparse(num_init, Constant(1.)).generate(rng(), (3, 8))


def test_sparse_nd_initializes_num_init_per_axis_index():
    result = SparseND(axis=(0, 1), num_init=2,
                      weights_init=Constant(1.)).generate(rng(), (3, 4, 5, 6))
    assert result.shape == (3, 4, 5, 6)
    assert_equal((result == 1.).reshape(12, 30).sum(axis=1), 2)
    result = SparseND(axis=2, num_init=3,
                      weights_init=Constant(1.)).generate(rng(), (3, 4, 5))
    assert result.shape == (3, 4, 5)
    assert_equal((result == 1.).sum(axis=(0, 1)), 3)


def test_initialize_uses_the_shape_of_the_variable():
    var = shared_floatx_nans((3, 4))
    Constant(2.).initialize(var, rng())
    assert_equal(var.get_value(), numpy.full((3, 4), 2.))
    IsotropicGaussian().initialize(var, rng(), shape=(2, 2))
    assert var.get_value().shape == (2, 2)


@pytest.mark.parametrize('scheme, text', [
    (Constant(2.), 'constant=2.0'),
    (IsotropicGaussian(1., 2.), 'mean=2.0, std=1.0'),
    (Uniform(1., 2.), 'mean=1.0, width=2.0'),
    (Identity(3), 'mult=3'),
    (Orthogonal(2), 'scale=2')])
def test_repr_shows_the_configuration(scheme, text):
    assert re.fullmatch(
        rf"<blocks\.initialization\.{scheme.__class__.__name__} object at "
        rf"0x[0-9a-f]+: {re.escape(text)}>", repr(scheme))
    assert str(scheme) == repr(scheme)
    assert f"{id(scheme):#x}" in repr(scheme)


def test_str_of_schemes_ends_like_the_reference():
    assert str(Constant(1.0)).endswith(' constant=1.0>')
    assert str(Identity(2.0)).endswith(' mult=2.0>')
