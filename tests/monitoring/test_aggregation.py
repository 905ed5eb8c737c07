"""Aggregation schemes, checked against numpy over batches of unequal size.

Every scheme is evaluated by one :class:`DatasetEvaluator` (a module-scoped
fixture) so that the whole module compiles only three small functions.
"""
import numpy
import pytensor
import pytest
from pytensor import tensor

from blocks.monitoring.aggregation import (Concatenate, Maximum, Mean,
                                           Minimum, MonitoredQuantity,
                                           Perplexity, TakeLast, concatenate,
                                           maximum, mean, minimum,
                                           perplexity, take_last)
from blocks.monitoring.evaluators import DatasetEvaluator

floatX = pytensor.config.floatX
DATA = numpy.array([3., 1., 4., 1., 5., 9., 2., 6., -5., 3.], dtype=floatX)
BATCHES = [DATA[0:4], DATA[4:8], DATA[8:10]]  # the last batch is smaller


class BatchStream:
    """A data stream yielding fixed batches of the source ``'features'``."""

    sources = ('features',)

    def __init__(self, batches):
        self.batches = batches

    def get_epoch_iterator(self, as_dict=False):
        return iter([{'features': batch} for batch in self.batches])


class MeanAbsoluteDifference(MonitoredQuantity):
    """A statistic computed in Python: mean |a - b| over examples."""

    def initialize(self):
        self.total = 0.
        self.count = 0

    def aggregate(self, a, b):
        self.total += float(numpy.abs(a - b).sum())
        self.count += len(a)

    def get_aggregated_value(self):
        return self.total / self.count


class BatchCount(MonitoredQuantity):
    """Needs one of the requirements of the other quantity."""

    def initialize(self):
        self.batches = 0

    def aggregate(self, a):
        self.batches += 1

    def get_aggregated_value(self):
        return self.batches


def named(variable, name):
    variable.name = name
    return variable


@pytest.fixture(scope='module')
def evaluated():
    x = tensor.vector('features')
    total = named(x.sum(), 'total')
    n_examples = x.shape[0].astype(floatX)
    shared = pytensor.shared(numpy.asarray(7., dtype=floatX), name='shared')
    doubled = 2 * x
    variables = [
        named(mean(total, n_examples), 'weighted_mean'),
        named(x.mean(), 'mean_of_batch_means'),
        named(take_last(x.mean()), 'last_batch_mean'),
        named(minimum(x.max()), 'min_of_maxima'),
        named(maximum(x.min()), 'max_of_minima'),
        named(concatenate(total), 'totals'),
        named(minimum(x[:2]), 'elementwise_min'),
        named(perplexity(-abs(x).sum(), n_examples), 'perplexity'),
        shared,
        MeanAbsoluteDifference(requires=[x, doubled], name='mad'),
        BatchCount(requires=[doubled], name='batch_count'),
    ]
    evaluator = DatasetEvaluator(variables)
    first = evaluator.evaluate(BatchStream(BATCHES))
    # A second evaluation starts from scratch.
    second = evaluator.evaluate(BatchStream(BATCHES))
    return evaluator, first, second


def test_weighted_mean_equals_numpy_mean_with_a_smaller_last_batch(
        evaluated):
    _, values, _ = evaluated
    assert values['weighted_mean'] == pytest.approx(DATA.mean())
    # The unweighted mean of the batch means differs: the weights matter.
    assert DATA.mean() != pytest.approx(
        numpy.mean([batch.mean() for batch in BATCHES]))


def test_default_scheme_is_the_mean_over_batches(evaluated):
    _, values, _ = evaluated
    assert values['mean_of_batch_means'] == pytest.approx(
        numpy.mean([batch.mean() for batch in BATCHES]))


def test_take_last_minimum_maximum_concatenate(evaluated):
    _, values, _ = evaluated
    assert values['last_batch_mean'] == pytest.approx(BATCHES[-1].mean())
    assert values['min_of_maxima'] == min(b.max() for b in BATCHES)
    assert values['max_of_minima'] == max(b.min() for b in BATCHES)
    numpy.testing.assert_allclose(values['totals'],
                                  [b.sum() for b in BATCHES])
    numpy.testing.assert_allclose(
        values['elementwise_min'],
        numpy.min([b[:2] for b in BATCHES], axis=0))


def test_perplexity(evaluated):
    _, values, _ = evaluated
    assert values['perplexity'] == pytest.approx(
        numpy.exp(abs(DATA).sum() / len(DATA)))


def test_data_independent_variable_is_read_as_is(evaluated):
    _, values, _ = evaluated
    assert values['shared'] == 7.


def test_python_side_quantity_is_aggregated_over_batches(evaluated):
    _, values, _ = evaluated
    assert values['mad'] == pytest.approx(numpy.abs(DATA - 2 * DATA).mean())
    assert values['batch_count'] == len(BATCHES)


def test_evaluation_restarts_from_scratch(evaluated):
    _, first, second = evaluated
    assert list(first) == list(second)
    for name in first:
        numpy.testing.assert_allclose(second[name], first[name])


def test_records_come_in_the_order_of_the_variables(evaluated):
    _, values, _ = evaluated
    assert list(values) == [
        'weighted_mean', 'mean_of_batch_means', 'last_batch_mean',
        'min_of_maxima', 'max_of_minima', 'totals', 'elementwise_min',
        'perplexity', 'shared', 'mad', 'batch_count']


def test_missing_source_names_the_missing_source(evaluated):
    evaluator, _, _ = evaluated
    with pytest.raises(KeyError, match=r"Not all data sources required for "
                       r"monitoring were provided.*Missing: \['features'\]"):
        evaluator.process_batch({'targets': BATCHES[0]})


def test_mean_of_a_batch_sized_vector_fails_clearly():
    x = tensor.vector('features')
    per_example = named(x ** 2, 'per_example_cost')
    evaluator = DatasetEvaluator([per_example])
    with pytest.raises(AssertionError,
                       match="Mean aggregation of 'per_example_cost'.*same "
                             "shape on every batch.*Monitor a scalar"):
        evaluator.evaluate(BatchStream(BATCHES))


def test_helpers_tag_copies_and_keep_names():
    x = tensor.vector('x')
    for helper, scheme in [(take_last, TakeLast), (minimum, Minimum),
                           (maximum, Maximum), (concatenate, Concatenate)]:
        tagged = helper(x)
        assert tagged is not x
        assert tagged.name == 'x'
        assert type(tagged.tag.aggregation_scheme) is scheme
        assert not hasattr(x.tag, 'aggregation_scheme')
    total = named(x.sum(), 'total')
    assert mean(total, 2.).name == 'total'
    assert isinstance(mean(total).tag.aggregation_scheme, Mean)
    assert perplexity(total, 2.).name == 'perplexity'
    assert isinstance(perplexity(total, 2.).tag.aggregation_scheme,
                      Perplexity)


def test_concatenate_adds_a_leading_axis_of_unknown_length():
    x = tensor.vector('x')
    scheme = concatenate(x).tag.aggregation_scheme
    assert scheme.variable.ndim == 2
    assert scheme.variable.type.shape[0] is None
    assert scheme.variable.name == 'x'


def test_aggregator_defaults_to_empty_update_lists():
    x = tensor.vector('x')
    aggregator = TakeLast(x).get_aggregator()
    assert aggregator.readout_variable is aggregator.aggregation_scheme.storage
    assert len(aggregator.initialization_updates) == 1
    from blocks.monitoring.aggregation import Aggregator
    empty = Aggregator(None)
    assert empty.initialization_updates == []
    assert empty.accumulation_updates == []


def test_monitored_quantity_requires_defaults_to_empty_list():
    quantity = BatchCount(name='n')
    assert quantity.requires == []
    assert quantity.name == 'n'
    with pytest.raises(TypeError):
        MonitoredQuantity()
