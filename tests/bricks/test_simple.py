"""Simple bricks against numpy.

All outputs are built once and compiled into one function (`results`):
CI compiles C code from scratch, so every extra function costs seconds.
"""
import pickle

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.bricks import (Bias, Identity, LeakyRectifier, Linear,
                           LinearMaxout, Logistic, Maxout,
                           NDimensionalSoftmax, Rectifier, Softmax, Softplus,
                           Tanh)
from blocks.compilation import function
from blocks.filter import get_application_call
from blocks.initialization import IsotropicGaussian
from blocks.roles import BIAS, WEIGHT

FLOATX = pytensor.config.floatX
RNG = numpy.random.RandomState(1234)
X = RNG.uniform(-3, 3, size=(5, 6)).astype(FLOATX)
X[0, :3] = 0.  # the gradient of the rectifiers at exactly 0
X[1] = [1000., -1000., 0., 500., 2., 1.]  # softmax stability
X3 = RNG.uniform(-3, 3, size=(2, 5, 6)).astype(FLOATX)
LABELS = numpy.array([0, 1, 5, 2, 3], dtype='int64')
DIST = RNG.dirichlet(numpy.ones(6), size=5).astype(FLOATX)
LABELS3 = RNG.randint(6, size=(2, 5)).astype('int64')


def np_softmax(x):
    e = numpy.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - numpy.log(numpy.exp(shifted).sum(axis=-1, keepdims=True))


@pytest.fixture(scope='module')
def bricks():
    return {
        'linear': Linear(6, 4, weights_init=IsotropicGaussian(),
                         biases_init=IsotropicGaussian(), seed=1),
        'linear_nobias': Linear(6, 4, use_bias=False,
                                weights_init=IsotropicGaussian(), seed=2),
        'bias': Bias(6, biases_init=IsotropicGaussian(), seed=3),
        'maxout': Maxout(num_pieces=3),
        'linear_maxout': LinearMaxout(6, 2, 3,
                                      weights_init=IsotropicGaussian(),
                                      biases_init=IsotropicGaussian(), seed=4),
        'softmax': Softmax(),
        'nd_softmax': NDimensionalSoftmax(),
    }


@pytest.fixture(scope='module')
def results(bricks):
    x, x3 = tensor.matrix('x'), tensor.tensor3('x3')
    labels, dist = tensor.lvector('labels'), tensor.matrix('dist')
    labels3 = tensor.lmatrix('labels3')
    for brick in bricks.values():
        brick.initialize()
    softmax, nd_softmax = bricks['softmax'], bricks['nd_softmax']
    rectified = Rectifier().apply(x)
    leaky = LeakyRectifier(leak=0.1).apply(x)
    cce_labels = softmax.categorical_cross_entropy(labels, x)
    outputs = {
        'identity': Identity().apply(x),
        'tanh': Tanh().apply(x),
        'logistic': Logistic().apply(x),
        'softplus': Softplus().apply(x),
        'rectifier': rectified,
        'leaky': leaky,
        'rectifier_grad': pytensor.grad(rectified.sum(), x),
        'leaky_grad': pytensor.grad(leaky.sum(), x),
        'softmax': softmax.apply(x),
        'log_probabilities': softmax.log_probabilities(x),
        'cce_labels': cce_labels,
        'cce_log_probabilities':
            get_application_call(cce_labels).auxiliary_variables[0],
        'cce_dist': softmax.categorical_cross_entropy(dist, x),
        'nd_softmax': nd_softmax.apply(x3, extra_ndim=1),
        'nd_log_probabilities': nd_softmax.log_probabilities(x3,
                                                             extra_ndim=1),
        'nd_cce': nd_softmax.categorical_cross_entropy(labels3, x3,
                                                       extra_ndim=1),
        'nd_softmax_no_extra': nd_softmax.apply(x),
        'linear': bricks['linear'].apply(x),
        'linear3': bricks['linear'].apply(x3),
        'linear_nobias': bricks['linear_nobias'].apply(x),
        'bias': bricks['bias'].apply(x),
        'maxout': bricks['maxout'].apply(x),
        'maxout3': bricks['maxout'].apply(x3),
        'linear_maxout': bricks['linear_maxout'].apply(x),
        'W_norm': bricks['linear'].auxiliary_variables[0],
    }
    f = function([x, x3, labels, dist, labels3], list(outputs.values()),
                 on_unused_input='ignore')
    values = f(X, X3, LABELS, DIST, LABELS3)
    return dict(zip(outputs, values, strict=True))


@pytest.mark.parametrize('name, expected', [
    ('identity', lambda x: x),
    ('tanh', numpy.tanh),
    ('logistic', lambda x: 1 / (1 + numpy.exp(-x))),
    ('softplus', lambda x: numpy.logaddexp(0, x)),
    ('rectifier', lambda x: numpy.maximum(0, x)),
    ('leaky', lambda x: numpy.where(x > 0, x, 0.1 * x)),
])
def test_activation(results, name, expected):
    with numpy.errstate(over='ignore'):
        assert_allclose(results[name], expected(X), rtol=1e-5)


def test_rectifier_gradients_follow_theano_at_zero(results):
    assert_allclose(results['rectifier_grad'],
                    numpy.where(X > 0, 1, numpy.where(X < 0, 0, 0.5)))
    assert_allclose(results['leaky_grad'],
                    numpy.where(X > 0, 1, numpy.where(X < 0, 0.1, 0.55)))


def test_activation_docstrings_name_the_function():
    assert Tanh.__doc__ == "Elementwise application of tanh function."
    assert 'logistic function' in Logistic.apply.__doc__


def test_softmax_is_stable(results):
    assert numpy.isfinite(results['log_probabilities']).all()
    assert_allclose(results['softmax'], np_softmax(X), rtol=1e-5)
    assert_allclose(results['log_probabilities'], np_log_softmax(X),
                    rtol=1e-5)


def test_categorical_cross_entropy(results):
    log_p = np_log_softmax(X)
    assert_allclose(results['cce_labels'], -log_p[numpy.arange(5), LABELS],
                    rtol=1e-5)
    assert numpy.isfinite(results['cce_labels']).all()
    assert_allclose(results['cce_log_probabilities'], log_p, rtol=1e-5)
    assert_allclose(results['cce_dist'], -(log_p * DIST).sum(axis=1),
                    rtol=1e-5)


def test_n_dimensional_softmax(results):
    assert results['nd_softmax'].shape == (2, 5, 6)
    assert_allclose(results['nd_softmax'], np_softmax(X3), rtol=1e-5)
    assert_allclose(results['nd_log_probabilities'], np_log_softmax(X3),
                    rtol=1e-5)
    log_p = np_log_softmax(X3)
    expected = -numpy.take_along_axis(log_p, LABELS3[..., None], -1)[..., 0]
    assert results['nd_cce'].shape == (2, 5)
    assert_allclose(results['nd_cce'], expected, rtol=1e-5)
    assert_allclose(results['nd_softmax_no_extra'], np_softmax(X),
                    rtol=1e-5)


def test_n_dimensional_softmax_applications(bricks):
    nd_softmax = bricks['nd_softmax']
    assert nd_softmax.apply.inputs == ['input_']
    assert nd_softmax.categorical_cross_entropy.inputs == ['y', 'x']
    y = nd_softmax.apply(tensor.tensor3(), extra_ndim=1)
    assert y.name == 'ndimensionalsoftmax_apply_output'
    with pytest.raises(ValueError, match="none after removing extra_ndim=2"):
        nd_softmax.apply(tensor.matrix(), extra_ndim=2)
    loaded = pickle.loads(pickle.dumps(nd_softmax))
    assert loaded.apply(tensor.tensor3(), extra_ndim=1).ndim == 3


def test_softmax_of_a_vector_is_a_vector():
    # Theano padded a vector to a (1, n) matrix; see docs/porting.md.
    assert Softmax().apply(tensor.vector()).ndim == 1


def test_softmax_rejects_other_ranks():
    with pytest.raises(ValueError, match=r"Softmax /softmax expects a matrix"
                       r" \(batch, classes\), got a 3-dimensional input.*"
                       r"NDimensionalSoftmax with extra_ndim=1"):
        Softmax().apply(tensor.tensor3())
    with pytest.raises(TypeError, match="rank mismatch between x and y"):
        Softmax().categorical_cross_entropy(tensor.tensor3(),
                                            tensor.matrix())
    with pytest.raises(ValueError, match="Wrong dtype prefix"):
        Softmax().categorical_cross_entropy(tensor.vector(), tensor.matrix())


def test_linear(bricks, results):
    linear = bricks['linear']
    W, b = linear.W.get_value(), linear.b.get_value()
    assert W.shape == (6, 4) and b.shape == (4,)
    assert_allclose(results['linear'], X.dot(W) + b, rtol=1e-5)
    assert_allclose(results['linear3'], X3.dot(W) + b, rtol=1e-5)
    assert_allclose(results['W_norm'], numpy.sqrt((W ** 2).sum()))
    nobias = bricks['linear_nobias']
    assert len(nobias.parameters) == 1
    assert_allclose(results['linear_nobias'],
                    X.dot(nobias.W.get_value()), rtol=1e-5)
    with pytest.raises(AttributeError):
        nobias.b


def test_linear_parameters_and_dims():
    linear = Linear(3, 4, name='foo')
    linear.allocate()
    W, b = linear.parameters
    assert (W.name, b.name) == ('W', 'b')
    assert W.tag.roles == [WEIGHT] and b.tag.roles == [BIAS]
    assert numpy.isnan(W.get_value()).all()
    assert linear.get_dim('input_') == 3 and linear.get_dim('output') == 4
    with pytest.raises(ValueError, match="No dimension information"):
        linear.get_dim('foo')


def test_linear_checks_its_input():
    linear = Linear(3, 4)
    with pytest.raises(ValueError, match=r"Linear /linear expects an input "
                       r"with at least one dimension"):
        linear.apply(tensor.scalar())
    with pytest.raises(ValueError, match=r"Linear /linear has input_dim=3, "
                       r"but the last axis of its input .* has static size"
                       r" 5"):
        linear.apply(tensor.matrix(shape=(None, 5)))


def test_linear_without_output_dim_names_it():
    with pytest.raises(ValueError, match=r"Linear /linear needs output_dim: "
                       r"set it"):
        Linear(input_dim=3).apply(tensor.matrix())


def test_bias(bricks, results):
    bias = bricks['bias']
    b, = bias.parameters
    assert b.tag.roles == [BIAS]
    assert_allclose(results['bias'], X + b.get_value(), rtol=1e-5)
    assert bias.input_dim == bias.output_dim == 6
    bias.input_dim = 6
    assert bias.get_dims(['input_', 'output']) == [6, 6]


def test_maxout(results):
    expected = X.reshape(5, 2, 3).max(axis=2)
    assert_allclose(results['maxout'], expected)
    assert_allclose(results['maxout3'], X3.reshape(2, 5, 2, 3).max(axis=3))


def test_maxout_checks_num_pieces_divides_the_input():
    with pytest.raises(ValueError, match="not a multiple of num_pieces=4"):
        Maxout(num_pieces=4).apply(tensor.matrix(shape=(None, 6)))


def test_linear_maxout(bricks, results):
    linear_maxout = bricks['linear_maxout']
    linear = linear_maxout.linear
    assert (linear.input_dim, linear.output_dim) == (6, 6)
    assert linear_maxout.maxout.num_pieces == 3
    assert [c.name for c in linear_maxout.children] == ['linear', 'maxout']
    pre = X.dot(linear.W.get_value()) + linear.b.get_value()
    assert_allclose(results['linear_maxout'],
                    pre.reshape(5, 2, 3).max(axis=2), rtol=1e-5)
