import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.bricks.cost import (AbsoluteError, BinaryCrossEntropy,
                                CategoricalCrossEntropy, Cost, CostMatrix,
                                MisclassificationRate, SquaredError)
from blocks.compilation import function

FLOATX = pytensor.config.floatX
RNG = numpy.random.RandomState(5)
Y = RNG.uniform(0.05, 0.95, (4, 3)).astype(FLOATX)
Y_HAT = RNG.uniform(0.05, 0.95, (4, 3)).astype(FLOATX)
PROBS = RNG.dirichlet(numpy.ones(3), size=4).astype(FLOATX)
LABELS = numpy.array([0, 2, 1, 2], dtype='int64')
# The reference's test case: 0.6, 0.4 and 0.2 for top_k 1, 2 and 3.
TOP_K_Y = numpy.array([2, 1, 0, 1, 2], dtype='int64')
TOP_K_Y_HAT = numpy.array([[3, 2, 1, 0], [1, 8, 2, 1], [3, 8, 1, 2],
                           [1, 6, 4, 2], [9, 7, 5, 5]], dtype=FLOATX)


def np_misclassification_rate(y, y_hat, top_k):
    """A row is a mistake if `top_k` or more scores are >= the true one."""
    truth = y_hat[numpy.arange(len(y)), y][:, None]
    return ((y_hat >= truth).sum(axis=1) - 1 >= top_k).mean()


@pytest.fixture(scope='module')
def costs():
    y, y_hat = tensor.matrix('y'), tensor.matrix('y_hat')
    labels = tensor.lvector('labels')
    outputs = {
        'binary': BinaryCrossEntropy().apply(y, y_hat),
        'absolute': AbsoluteError().apply(y, y_hat),
        'squared': SquaredError().apply(y, y_hat),
        'categorical_labels': CategoricalCrossEntropy().apply(labels, y_hat),
        'categorical_dist': CategoricalCrossEntropy().apply(y, y_hat),
    }
    for top_k in (1, 2, 3):
        outputs[f'top_{top_k}'] = MisclassificationRate(top_k).apply(
            labels, y_hat)
    names = list(outputs)
    f = function([y, y_hat, labels], [outputs[name] for name in names],
                 on_unused_input='ignore')

    def evaluate(y_value, y_hat_value, labels_value):
        return dict(zip(names, f(y_value, y_hat_value, labels_value),
                        strict=True))
    return outputs, evaluate


def test_cost_matrix_costs(costs):
    outputs, evaluate = costs
    values = evaluate(Y, Y_HAT, LABELS)
    binary = -(Y * numpy.log(Y_HAT) + (1 - Y) * numpy.log(1 - Y_HAT))
    assert_allclose(values['binary'], binary.sum(axis=1).mean(), rtol=1e-5)
    assert_allclose(values['absolute'],
                    abs(Y - Y_HAT).sum(axis=1).mean(), rtol=1e-5)
    assert_allclose(values['squared'],
                    ((Y - Y_HAT) ** 2).sum(axis=1).mean(), rtol=1e-5)
    assert outputs['squared'].name == 'squarederror_apply_cost'


def test_categorical_cross_entropy(costs):
    _, evaluate = costs
    values = evaluate(Y, PROBS, LABELS)
    assert_allclose(values['categorical_labels'],
                    -numpy.log(PROBS[numpy.arange(4), LABELS]).mean(),
                    rtol=1e-5)
    assert_allclose(values['categorical_dist'],
                    -(Y * numpy.log(PROBS)).sum(axis=1).mean(), rtol=1e-5)


def test_categorical_cross_entropy_rank_mismatch():
    with pytest.raises(TypeError, match="rank mismatch"):
        CategoricalCrossEntropy().apply(tensor.tensor3(), tensor.matrix())


@pytest.mark.parametrize('top_k, expected', [(1, 0.6), (2, 0.4), (3, 0.2)])
def test_misclassification_rate_top_k(costs, top_k, expected):
    outputs, evaluate = costs
    values = evaluate(TOP_K_Y_HAT, TOP_K_Y_HAT, TOP_K_Y)
    assert_allclose(values[f'top_{top_k}'], expected)
    assert_allclose(expected, np_misclassification_rate(TOP_K_Y, TOP_K_Y_HAT,
                                                        top_k))
    assert outputs[f'top_{top_k}'].dtype == FLOATX


def test_misclassification_rate_against_numpy(costs):
    _, evaluate = costs
    rng = numpy.random.RandomState(7)
    y_hat = rng.randint(5, size=(40, 3)).astype(FLOATX)  # many ties
    labels = rng.randint(3, size=40).astype('int64')
    values = evaluate(y_hat, y_hat, labels)
    for top_k in (1, 2, 3):
        expected = (np_misclassification_rate(labels, y_hat, top_k)
                    if top_k > 1 else
                    (labels != y_hat.argmax(axis=1)).mean())
        assert_allclose(values[f'top_{top_k}'], expected)


def test_misclassification_rate_takes_only_top_k():
    assert MisclassificationRate().top_k == 1
    with pytest.raises(TypeError):
        MisclassificationRate(name='error')


def test_misclassification_rate_without_top_k_attribute_uses_one():
    brick = MisclassificationRate(3)
    del brick.top_k  # a brick unpickled from a checkpoint predating top_k
    brick.apply(tensor.lvector(), tensor.matrix())


def test_costs_are_abstract():
    with pytest.raises(TypeError):
        Cost()
    with pytest.raises(TypeError):
        CostMatrix()
