"""TerminateOnNonFinite stops a real training run at the first NaN or inf."""
import numpy
import pytensor
import pytest
from pytensor import tensor

from blocks.algorithms import GradientDescent, Scale
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import SequentialScheme
from blocks.data.streams import DataStream
from blocks.extensions import FinishAfter, NonFiniteError, TerminateOnNonFinite
from blocks.extensions.monitoring import TrainingDataMonitoring
from blocks.extensions.saveload import Checkpoint
from blocks.main_loop import MainLoop
from blocks.model import Model
from blocks.roles import PARAMETER, add_role
from blocks.serialization import load_parameters

floatX = pytensor.config.floatX


@pytest.fixture(scope='module')
def regression():
    """A linear regression and its compiled training step, built once."""
    features = tensor.matrix('features')
    targets = tensor.matrix('targets')
    weights = pytensor.shared(numpy.zeros((2, 1), dtype=floatX), name='W')
    add_role(weights, PARAMETER)
    cost = ((tensor.dot(features, weights) - targets) ** 2).mean()
    cost.name = 'cost'
    step_rule = Scale(0.1)
    algorithm = GradientDescent(cost=cost, parameters=[weights],
                                step_rule=step_rule)
    learning_rate = step_rule.learning_rate
    return algorithm, weights, learning_rate, cost


def train(regression, features, rate, extensions):
    algorithm, weights, learning_rate, cost = regression
    weights.set_value(numpy.zeros((2, 1), dtype=floatX))
    learning_rate.set_value(numpy.asarray(rate, dtype=floatX))
    targets = numpy.nan_to_num(features).sum(axis=1, keepdims=True)
    stream = DataStream(
        IndexableDataset({'features': features.astype(floatX),
                          'targets': targets.astype(floatX)}),
        iteration_scheme=SequentialScheme(len(features), 2))
    monitoring = TrainingDataMonitoring([cost], prefix='train',
                                        after_batch=True)
    main_loop = MainLoop(algorithm, stream, model=Model(cost),
                         extensions=[monitoring, *extensions,
                                     FinishAfter(after_n_epochs=3)])
    return main_loop


def data(n=12):
    return numpy.random.RandomState(1).uniform(-1, 1, (n, 2))


def test_nan_in_one_example_names_the_record_iteration_and_source(
        regression):
    features = data()
    features[8, 0] = numpy.nan
    main_loop = train(regression, features, 0.1, [TerminateOnNonFinite()])
    with pytest.raises(NonFiniteError) as error:
        main_loop.run()
    message = str(error.value)
    # The monitored cost of the fifth batch (examples 8 and 9) lands in
    # row 5.
    assert "'train_cost' is nan at iteration 5 (epoch 0)" in message
    assert "source(s) 'features':" in message
    assert main_loop.status['iterations_done'] == 5
    assert 'training_finished' not in main_loop.log.current_row
    assert 'NonFiniteError' in main_loop.log.current_row['got_exception']


def test_divergence_is_blamed_on_the_learning_rate_and_keeps_the_checkpoint(
        regression, tmp_path):
    path = tmp_path / 'checkpoint.tar'
    checkpoint = Checkpoint(str(path), every_n_batches=2, after_training=True)
    main_loop = train(regression, data(), 1e50,
                      [TerminateOnNonFinite(), checkpoint])
    with pytest.raises(NonFiniteError) as error:
        main_loop.run()
    message = str(error.value)
    iteration = main_loop.status['iterations_done']
    assert f"'train_cost' is inf at iteration {iteration}" in message or (
        f"'train_cost' is nan at iteration {iteration}" in message)
    assert "training diverged: 'train_cost' grew from" in message
    assert "learning rate too large" in message
    saved_at = max(time for time in main_loop.log
                   if main_loop.log[time].get('saved_to'))
    assert saved_at < iteration
    assert f"written to {str(path)!r} at iteration {saved_at}" in message
    with open(path, 'rb') as source:
        parameters = load_parameters(source)
    assert list(parameters) == ['W']
    assert numpy.isfinite(parameters['W']).all()


def test_finite_training_is_not_stopped(regression):
    main_loop = train(regression, data(), 0.1,
                      [TerminateOnNonFinite(['train_cost'])])
    main_loop.run()
    assert main_loop.status['epochs_done'] == 3
    assert numpy.isfinite(main_loop.log.current_row['train_cost'])


def test_record_names_must_be_a_list():
    with pytest.raises(TypeError, match=r"\['train_cost'\]"):
        TerminateOnNonFinite('train_cost')
