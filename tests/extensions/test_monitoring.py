"""Monitoring extensions in a real main loop, checked against numpy.

One small linear regression is trained once (a module-scoped fixture) with
every monitoring extension attached; the tests compare its log with values
recomputed in numpy from the parameters recorded before each batch. The
error tests fail before anything is compiled.
"""
import pickle

import numpy
import pytensor
import pytest
from pytensor import tensor

from blocks.algorithms import GradientDescent, Scale
from blocks.extensions import FinishAfter, TrainingExtension
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          MonitoringExtension,
                                          TrainingDataMonitoring)
from blocks.extensions.training import SharedVariableModifier
from blocks.log import TrainingLog
from blocks.main_loop import MainLoop
from blocks.monitoring.aggregation import MonitoredQuantity
from blocks.utils import shared_floatx
from blocks.utils.testing import MockAlgorithm

floatX = pytensor.config.floatX
rng = numpy.random.RandomState(1)
FEATURES = rng.normal(size=(10, 2)).astype(floatX)
TARGETS = rng.normal(size=10).astype(floatX)
VALID_FEATURES = rng.normal(size=(5, 2)).astype(floatX)
VALID_TARGETS = rng.normal(size=5).astype(floatX)
W_INIT = numpy.array([0.5, -0.3], dtype=floatX)
EPOCHS = 2


class BatchStream:
    """Batches of `batch_size` rows (the last one smaller), as dicts."""

    def __init__(self, batch_size, **arrays):
        self.arrays = arrays
        self.sources = tuple(arrays)
        self.batch_size = batch_size

    def get_epoch_iterator(self, as_dict=False):
        n = len(next(iter(self.arrays.values())))
        batches = [{name: array[start:start + self.batch_size]
                    for name, array in self.arrays.items()}
                   for start in range(0, n, self.batch_size)]
        if not as_dict:
            batches = [tuple(batch.values()) for batch in batches]
        return iter(batches)


class AbsoluteError(MonitoredQuantity):
    """Mean absolute error over examples, computed in Python."""

    def initialize(self):
        self.total, self.count = 0., 0

    def aggregate(self, predictions, targets):
        self.total += float(numpy.abs(predictions - targets).sum())
        self.count += len(targets)

    def get_aggregated_value(self):
        return self.total / self.count


class RecordParameters(TrainingExtension):
    """Remembers the parameters before every batch and after every epoch."""

    def __init__(self, W):
        super().__init__()
        self.W = W
        self.before_batches = []
        self.after_epochs = [W_INIT.copy()]

    def before_batch(self, batch):
        self.before_batches.append((self.W.get_value().copy(), batch))

    def after_epoch(self):
        self.after_epochs.append(self.W.get_value().copy())


def cost_of(W, batch):
    return numpy.mean((batch['features'].dot(W) - batch['targets']) ** 2)


def step_decay(iterations):
    """Halve the learning rate every 2 batches (a module-level function, so
    that the main loop pickles)."""
    return 0.1 * 0.5 ** (iterations // 2)


def build_graph():
    x = tensor.matrix('features')
    y = tensor.vector('targets')
    W = shared_floatx(W_INIT, name='W')
    predictions = x.dot(W)
    cost = ((predictions - y) ** 2).mean()
    cost.name = 'cost'
    return x, y, W, predictions, cost


@pytest.fixture(scope='module')
def trained():
    x, y, W, predictions, cost = build_graph()
    step_rule = Scale(0.1)
    learning_rate = step_rule.learning_rate
    learning_rate.name = 'learning_rate'
    algorithm = GradientDescent(cost=cost, parameters=[W],
                                step_rule=step_rule)
    counter = pytensor.shared(numpy.asarray(0, dtype='int64'), name='counter')
    recorder = RecordParameters(W)
    extensions = [
        recorder,
        TrainingDataMonitoring([cost, learning_rate], prefix='batch',
                               after_batch=True),
        TrainingDataMonitoring(
            [cost, AbsoluteError(requires=[predictions, y], name='mae')],
            suffix='epoch', after_epoch=True),
        DataStreamMonitoring(
            [cost, AbsoluteError(requires=[predictions, y], name='mae')],
            BatchStream(2, features=VALID_FEATURES, targets=VALID_TARGETS),
            prefix='valid', updates=[(counter, counter + 1)]),
        SharedVariableModifier(learning_rate, step_decay),
        FinishAfter(after_n_epochs=EPOCHS),
    ]
    main_loop = MainLoop(algorithm,
                         BatchStream(4, features=FEATURES, targets=TARGETS),
                         extensions=extensions)
    main_loop.run()
    return main_loop, recorder, counter


def test_after_batch_record_is_the_cost_before_the_update(trained):
    main_loop, recorder, _ = trained
    assert len(recorder.before_batches) == 3 * EPOCHS
    for i, (W, batch) in enumerate(recorder.before_batches):
        assert main_loop.log[i + 1]['batch_cost'] == pytest.approx(
            cost_of(W, batch))


def test_the_parameters_change_between_batches(trained):
    _, recorder, _ = trained
    first, second = recorder.before_batches[:2]
    assert not numpy.allclose(first[0], second[0])


def test_data_independent_record_is_its_value_on_the_last_batch(trained):
    main_loop, _, _ = trained
    # The learning rate used for batch i (0-based), set after batch i - 1.
    for i in range(3 * EPOCHS):
        assert main_loop.log[i + 1]['batch_learning_rate'] == pytest.approx(
            0.1 * 0.5 ** (i // 2))


def test_after_epoch_record_is_the_mean_over_the_epochs_batches(trained):
    main_loop, recorder, _ = trained
    for epoch, end in enumerate(main_loop.status['_epoch_ends']):
        batches = recorder.before_batches[3 * epoch:3 * (epoch + 1)]
        expected = numpy.mean([cost_of(W, batch) for W, batch in batches])
        assert main_loop.log[end]['cost_epoch'] == pytest.approx(expected)


def test_python_quantity_on_training_batches(trained):
    main_loop, recorder, _ = trained
    for epoch, end in enumerate(main_loop.status['_epoch_ends']):
        batches = recorder.before_batches[3 * epoch:3 * (epoch + 1)]
        errors = numpy.concatenate([
            numpy.abs(batch['features'].dot(W) - batch['targets'])
            for W, batch in batches])
        assert main_loop.log[end]['mae_epoch'] == pytest.approx(
            errors.mean())


def test_data_stream_monitoring_before_first_and_after_every_epoch(trained):
    main_loop, recorder, _ = trained
    times = [0] + main_loop.status['_epoch_ends']
    for time, W in zip(times, recorder.after_epochs, strict=True):
        predictions = VALID_FEATURES.dot(W)
        # 5 examples in batches of 2, 2, 1: the default mean is over
        # batches.
        batch_costs = [numpy.mean((predictions[s] - VALID_TARGETS[s]) ** 2)
                       for s in (slice(0, 2), slice(2, 4), slice(4, 5))]
        assert main_loop.log[time]['valid_cost'] == pytest.approx(
            numpy.mean(batch_costs))
        assert main_loop.log[time]['valid_mae'] == pytest.approx(
            numpy.abs(predictions - VALID_TARGETS).mean())


def test_data_stream_monitoring_applies_its_updates(trained):
    _, _, counter = trained
    # 3 validation batches, evaluated before training and after 2 epochs.
    assert counter.get_value() == 3 * (1 + EPOCHS)


# Failing before the first batch

def run_until_failure(extensions, sources=('features', 'targets')):
    x, y, W, predictions, cost = build_graph()
    algorithm = GradientDescent(cost=cost, parameters=[W])
    arrays = {'features': FEATURES, 'targets': TARGETS}
    stream = BatchStream(4, **{name: arrays[name] for name in sources})
    main_loop = MainLoop(algorithm, stream, extensions=extensions +
                         [FinishAfter(after_n_epochs=1)])
    main_loop.run()


def test_data_stream_monitoring_names_missing_sources_before_training():
    x = tensor.matrix('features')
    typo = tensor.vector('targest')
    error = ((x.sum(axis=1) - typo) ** 2).mean()
    error.name = 'error'
    monitor = DataStreamMonitoring(
        [error], BatchStream(2, features=VALID_FEATURES,
                             targets=VALID_TARGETS))
    with pytest.raises(ValueError, match="graph input.*targest.*provides only "
                                         "the sources features, targets"):
        run_until_failure([monitor])
    assert monitor.main_loop.status['iterations_done'] == 0


def test_training_data_monitoring_names_missing_sources_before_training():
    x = tensor.matrix('features')
    weights = tensor.vector('weights')
    weighted = (x.sum(axis=1) * weights).mean()
    weighted.name = 'weighted'
    monitor = TrainingDataMonitoring([weighted], after_epoch=True)
    with pytest.raises(ValueError, match="input.*weights.*provides only"):
        run_until_failure([monitor])
    assert monitor.main_loop.status['iterations_done'] == 0


def test_training_data_monitoring_needs_an_updates_algorithm():
    x = tensor.vector('data')
    total = x.sum()
    total.name = 'total'
    monitor = TrainingDataMonitoring([total], after_epoch=True)
    main_loop = MainLoop(MockAlgorithm(), BatchStream(2, data=TARGETS),
                         extensions=[monitor])
    with pytest.raises(ValueError, match="must be an UpdatesAlgorithm"):
        main_loop.run()


def test_training_data_monitoring_refuses_other_objects():
    with pytest.raises(ValueError, match="can not monitor 'cost'"):
        TrainingDataMonitoring(['cost'])


def test_training_data_monitoring_refuses_duplicate_names():
    x = tensor.vector('x')
    a, b = x.sum(), x.mean()
    a.name = b.name = 'stat'
    with pytest.raises(ValueError, match="Duplicates: stat"):
        TrainingDataMonitoring([a, b])


def test_training_data_monitoring_must_run_before_training():
    with pytest.raises(ValueError, match="must run before training"):
        TrainingDataMonitoring([], before_training=False)


# Record names

@pytest.mark.parametrize('prefix, suffix, record', [
    (None, None, 'cost'),
    ('valid', None, 'valid_cost'),
    (None, 'epoch', 'cost_epoch'),
    ('train', 'mean', 'train_cost_mean'),
])
def test_record_names_with_prefix_and_suffix(prefix, suffix, record):
    extension = MonitoringExtension(prefix=prefix, suffix=suffix)
    variable = tensor.vector('cost')
    assert extension.record_name(variable) == record
    log = TrainingLog()
    extension.add_records(log, [('cost', 1.)])
    assert log.current_row[record] == 1.


def test_record_name_must_be_a_string():
    with pytest.raises(ValueError, match="record name must be a string"):
        MonitoringExtension()._record_name(None)
    with pytest.raises(ValueError, match="monitor variable without name"):
        MonitoringExtension().add_records(TrainingLog(), [('', 1.)])
    with pytest.raises(ValueError, match="prefix must be a string"):
        MonitoringExtension(prefix=1)


def test_monitoring_extensions_pickle_and_evaluate_again(trained):
    main_loop, recorder, counter = trained
    count = counter.get_value()
    monitor = next(extension for extension in main_loop.extensions
                   if isinstance(extension, DataStreamMonitoring))
    clone = pickle.loads(pickle.dumps(monitor))
    # Compiled functions are not pickled; they are compiled again.
    assert not clone._evaluator._compiled
    original = monitor._evaluator.evaluate(monitor.data_stream)
    again = clone._evaluator.evaluate(clone.data_stream)
    assert list(again) == ['cost', 'mae']
    for name in original:
        assert again[name] == pytest.approx(original[name])
    training_monitor = next(extension for extension in main_loop.extensions
                            if isinstance(extension, TrainingDataMonitoring))
    pickle.loads(pickle.dumps(training_monitor))
    counter.set_value(count)  # undo this test's evaluation
