"""A batch that does not fit the compiled function names its source."""
import numpy
import pytest
from pytensor import tensor

from blocks.algorithms import GradientDescent, Scale
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import SequentialScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Cast
from blocks.monitoring.evaluators import DatasetEvaluator
from blocks.utils import shared_floatx


@pytest.fixture(scope='module')
def graph():
    features = tensor.matrix('features', dtype='float32')
    targets = tensor.lvector('targets')
    weights = shared_floatx(numpy.zeros(2, dtype='float32'), name='W')
    cost = ((tensor.dot(features, weights) - targets) ** 2).mean()
    cost.name = 'cost'
    return features, targets, weights, cost


@pytest.fixture(scope='module')
def algorithm(graph):
    _, _, weights, cost = graph
    algorithm = GradientDescent(cost=cost, parameters=[weights],
                                step_rule=Scale(0.1))
    algorithm.initialize()
    return algorithm


@pytest.fixture(scope='module')
def evaluator(graph):
    evaluator = DatasetEvaluator([graph[3]])
    evaluator.compile()
    return evaluator


GOOD = {'features': numpy.ones((3, 2), dtype='float32'),
        'targets': numpy.arange(3)}


def batch(**changes):
    return dict(GOOD, **changes)


@pytest.mark.parametrize('consumer', ['algorithm', 'evaluator'])
def test_float64_data_into_float32_graph_names_source_dtypes_and_fix(
        request, consumer):
    function = request.getfixturevalue(consumer)
    function.process_batch(batch())  # the right dtypes go through
    with pytest.raises(TypeError) as info:
        function.process_batch(batch(features=numpy.ones((3, 2))))
    message = str(info.value)
    assert ("the source 'features' holds float64 data (shape (3, 2)), but "
            "the graph input 'features' expects float32") in message
    assert "Cast(stream, 'float32', which_sources=('features',))" in message
    assert 'floatX' in message
    assert 'array(' not in message  # the data is not printed


def test_string_data_is_named(algorithm):
    with pytest.raises(TypeError, match="the source 'features' holds "
                                        "string data, but the graph input "
                                        "'features' expects float32 "
                                        "numbers"):
        algorithm.process_batch(batch(
            features=numpy.array([['a', 'b']] * 3)))


def test_float_targets_into_integer_input_are_named(algorithm):
    with pytest.raises(TypeError) as info:
        algorithm.process_batch(batch(targets=numpy.array([0., 1., 1.])))
    message = str(info.value)
    assert ("the source 'targets' holds float64 data (shape (3,)), but the "
            "graph input 'targets' expects int64") in message
    assert "Cast the stream to an integer type" in message


def test_missing_batch_axis_is_named(algorithm):
    with pytest.raises(TypeError, match="the source 'features' has 1 "
                                        "dimension.*expects 2"):
        algorithm.process_batch(batch(features=numpy.ones(2, 'float32')))


def test_the_suggested_cast_fixes_the_stream(graph, evaluator):
    features = numpy.arange(8.).reshape(4, 2)
    targets = numpy.arange(4)
    stream = DataStream(
        IndexableDataset({'features': features, 'targets': targets}),
        iteration_scheme=SequentialScheme(4, 2))
    with pytest.raises(TypeError, match="source 'features'"):
        evaluator.evaluate(stream)
    fixed = Cast(stream, 'float32', which_sources=('features',))
    weights = graph[2].get_value()
    expected = numpy.mean((features @ weights - targets) ** 2)
    assert evaluator.evaluate(fixed)['cost'] == pytest.approx(expected)
