"""Buffers and evaluators: naming rules, default schemes, uninitialized use.

Only the pickling test compiles (one tiny function).
"""
import pickle

import pytensor
import pytest
from pytensor import tensor

from blocks.monitoring.aggregation import (Mean, MonitoredQuantity, TakeLast,
                                           _DataIndependent)
from blocks.monitoring.evaluators import (AggregationBuffer,
                                          DatasetEvaluator,
                                          MonitoredQuantityBuffer)


class Count(MonitoredQuantity):
    def initialize(self):
        self.count = 0

    def aggregate(self, *values):
        self.count += 1

    def get_aggregated_value(self):
        return self.count


def named(variable, name):
    variable.name = name
    return variable


def test_unnamed_variable_is_refused():
    x = tensor.vector('x')
    with pytest.raises(ValueError, match="Variables must have names"):
        DatasetEvaluator([x.sum()])


def test_two_variables_with_the_same_name_are_refused():
    x = tensor.vector('x')
    with pytest.raises(ValueError, match="Variables should have unique names. "
                                         "Duplicates: cost.*rename one"):
        DatasetEvaluator([named(x.sum(), 'cost'), named(x.mean(), 'cost')])


def test_quantity_and_variable_with_the_same_name_are_refused():
    x = tensor.vector('x')
    with pytest.raises(ValueError, match="Duplicates: n"):
        DatasetEvaluator([named(x.sum(), 'n'), Count(requires=[x], name='n')])


@pytest.mark.parametrize('use_take_last, scheme',
                         [(False, _DataIndependent), (True, TakeLast)])
def test_default_schemes_are_written_to_the_tag(use_take_last, scheme):
    x = tensor.vector('x')
    data_dependent = named(x.sum(), 'total')
    shared = pytensor.shared(1., name='w')
    data_independent = named(2 * shared, 'twice_w')
    buffer = AggregationBuffer([data_dependent, data_independent],
                               use_take_last=use_take_last)
    assert isinstance(data_dependent.tag.aggregation_scheme, Mean)
    assert type(data_independent.tag.aggregation_scheme) is scheme
    assert list(buffer.readout_variables) == ['total', 'twice_w']
    assert buffer.inputs == [x]


def test_aggregation_buffer_must_be_initialized_before_readout():
    x = tensor.vector('x')
    buffer = AggregationBuffer([named(x.sum(), 'total')])
    with pytest.raises(Exception, match="must first initialize"):
        buffer.get_aggregated_values()


def test_quantity_buffer_must_be_initialized():
    x = tensor.vector('x')
    buffer = MonitoredQuantityBuffer([Count(requires=[x], name='n')])
    with pytest.raises(Exception, match="initialize the buffer first"):
        buffer.aggregate_quantities([1.])


def test_quantity_buffer_deduplicates_requirements_in_order():
    x = tensor.vector('x')
    y = tensor.vector('y')
    doubled = 2 * x
    buffer = MonitoredQuantityBuffer([Count(requires=[x, doubled], name='a'),
                                      Count(requires=[doubled, y], name='b')])
    assert buffer.requires == [x, doubled, y]
    assert set(buffer.inputs) == {x, y}
    assert buffer.quantity_names == ['a', 'b']


def test_evaluator_splits_variables_and_quantities():
    x = tensor.vector('x')
    total = named(x.sum(), 'total')
    count = Count(requires=[x], name='n')
    evaluator = DatasetEvaluator([total, count])
    assert evaluator.theano_variables == [total]
    assert evaluator.monitored_quantities == [count]
    assert evaluator.required_inputs == [x]
    assert evaluator.missing_sources(['y']) == ['x']
    assert evaluator.missing_sources(['x', 'y']) == []


def test_evaluator_pickles_without_compiled_functions():
    x = tensor.vector('x')
    evaluator = DatasetEvaluator([named(x.sum(), 'total')])
    evaluator.compile()
    clone = pickle.loads(pickle.dumps(evaluator))
    assert not clone._compiled
    assert '_accumulate_fun' not in clone.__dict__
