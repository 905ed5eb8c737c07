"""Checkpoint and Load, with a mock algorithm (nothing is compiled)."""
import logging
import os
import pickle
import tarfile

import numpy
import pytensor
import pytest
from numpy.testing import assert_array_equal

import blocks.serialization.writer as writer_module
from blocks.algorithms import UpdatesAlgorithm
from blocks.bricks import MLP, Tanh
from blocks.extensions import FinishAfter, SimpleExtension
from blocks.extensions.predicates import OnLogRecord
from blocks.extensions.saveload import (LOADED_FROM, SAVED_TO,
                                       SAVED_WITHOUT_MAIN_LOOP_TO, Checkpoint,
                                       Load)
from blocks.graph import apply_dropout, ComputationGraph
from blocks.initialization import Constant
from blocks.log import TrainingLog
from blocks.main_loop import MainLoop
from blocks.model import Model
from blocks.serialization import load, load_parameters
from blocks.serialization.training_state import (algorithm_state_variables,
                                                 restore_algorithm_state)
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


def make_model(name='mlp', dims=(2, 3, 2), value=1.):
    mlp = MLP([Tanh(), Tanh()], list(dims), name=name,
              weights_init=Constant(value), biases_init=Constant(0))
    mlp.initialize()
    return Model(mlp.apply(pytensor.tensor.matrix('data')))


def make_main_loop(extensions, model=None, n_batches=10, log=None):
    return MainLoop(MockAlgorithm(), ListStream(range(n_batches)),
                    model=model or make_model(), log=log,
                    extensions=extensions)


class WriteRecord(SimpleExtension):
    """Writes ``record = True`` after the given batches."""

    def __init__(self, record, iterations, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.record = record
        self.iterations = iterations

    def do(self, which_callback, *args):
        log = self.main_loop.log
        if log.status['iterations_done'] in self.iterations:
            log.current_row[self.record] = True


class HoldsFunction(SimpleExtension):
    def __init__(self, function, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def do(self, which_callback, *args):
        pass


class FlushCountingLog(TrainingLog):
    def __init__(self):
        super().__init__()
        self.flushes = 0

    def flush(self):
        self.flushes += 1


def test_saved_to_and_a_copy_of_the_best_model(tmp_path, monkeypatch):
    path, best = str(tmp_path / 'model.tar'), str(tmp_path / 'best.tar')
    dumps = []
    real_secure_dump = writer_module.secure_dump
    monkeypatch.setattr(writer_module, 'secure_dump', lambda *args, **kwargs: (
        dumps.append(args[1]), real_secure_dump(*args, **kwargs)))
    checkpoint = Checkpoint(path, after_batch=True).add_condition(
        ['after_batch'], OnLogRecord('best'), (best,))
    main_loop = make_main_loop([WriteRecord('best', [2]), checkpoint,
                                FinishAfter(after_n_batches=3)])
    main_loop.run()
    log = main_loop.log
    assert log[1][SAVED_TO] == (path,)
    assert log[2][SAVED_TO] == (path, best)
    # The last batch, then after_training (the default trigger).
    assert log[3][SAVED_TO] == (path, path)
    # best.tar was copied, not pickled again.
    assert dumps == [path] * 4
    with open(best, 'rb') as file_:
        assert load(file_).status['iterations_done'] == 2
    assert sorted(os.listdir(tmp_path)) == ['best.tar', 'model.tar']


def test_save_separately_and_log_flushes(tmp_path):
    path = str(tmp_path / 'model.tar')
    log = FlushCountingLog()
    main_loop = make_main_loop(
        [Checkpoint(path, save_separately=['log']),
         FinishAfter(after_n_batches=2)], log=log)
    main_loop.run()
    with open(path, 'rb') as file_:
        with tarfile.open(fileobj=file_) as tar_file:
            assert tar_file.getnames() == ['_parameters', '_pkl', 'log',
                                           '_checksums']
        assert load(file_, 'log').status['iterations_done'] == 2
    # Before and after the save, and by the main loop at the end.
    assert log.flushes >= 2


def test_save_separately_missing_attribute_when_called_directly():
    checkpoint = Checkpoint(None, save_separately=['foo'])
    checkpoint.main_loop = make_main_loop([checkpoint])
    with pytest.raises(AttributeError):
        checkpoint.do(None)
    assert checkpoint.main_loop.log.current_row[SAVED_TO] == (None,)


def test_save_separately_missing_attribute(tmp_path):
    main_loop = make_main_loop(
        [Checkpoint(str(tmp_path / 'model.tar'), save_separately=['nope']),
         FinishAfter(after_n_batches=1)])
    with pytest.raises(AttributeError, match='nope'):
        main_loop.run()
    assert main_loop.log.current_row[SAVED_TO] == (None,)


class OpensFileAt(SimpleExtension):
    """Keeps an open file from the given batch on (unpicklable)."""

    def __init__(self, iteration, path, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.iteration, self.path, self.opened = iteration, path, None

    def do(self, which_callback, *args):
        if self.main_loop.status['iterations_done'] == self.iteration:
            self.opened = open(self.path, 'w')


def test_unpicklable_main_loop_never_replaces_a_resumable_checkpoint(
        tmp_path, caplog):
    path = str(tmp_path / 'model.tar')
    main_loop = make_main_loop(
        [OpensFileAt(3, str(tmp_path / 'notes.txt')),
         Checkpoint(path, every_n_batches=2, save_separately=['log'])])
    with pytest.raises(pickle.PicklingError,
                       match=r"main_loop\.extensions\[0\]\.opened") as info:
        main_loop.run()
    main_loop.extensions[0].opened.close()
    fallback = str(tmp_path / 'model.parameters-and-log.tar')
    message = str(info.value)
    assert isinstance(info.value, TypeError)
    assert f"{path!r} was not replaced" in message
    assert 'last resumable checkpoint, of iteration 2' in message
    assert fallback in message and 'cannot be resumed' in message
    assert 'model.parameters-and-log.tar' in caplog.text
    # The checkpoint of batch 2 is still there and resumable.
    with open(path, 'rb') as file_:
        assert load(file_).status['iterations_done'] == 2
    with open(fallback, 'rb') as file_:
        with tarfile.open(fileobj=file_) as tar_file:
            assert tar_file.getnames() == ['_parameters', 'log',
                                           '_checksums']
        assert load(file_, 'log').status['iterations_done'] == 4
        file_.seek(0)
        assert '/mlp/linear_0.W' in load_parameters(file_)
    assert main_loop.log[4][SAVED_TO] == (None,)
    assert main_loop.log[4][SAVED_WITHOUT_MAIN_LOOP_TO] == fallback


@pytest.mark.parametrize('trigger', [{}, {'every_n_batches': 5}])
def test_missing_directory_is_reported_before_training(tmp_path, trigger):
    main_loop = make_main_loop(
        [Checkpoint(str(tmp_path / 'missing' / 'model.tar'), **trigger)])
    with pytest.raises(FileNotFoundError, match='does not exist'):
        main_loop.run()
    assert not hasattr(main_loop.algorithm, 'batch')


def test_destination_of_a_condition_argument_is_checked(tmp_path):
    checkpoint = Checkpoint(str(tmp_path / 'model.tar')).add_condition(
        ['after_epoch'], arguments=(str(tmp_path / 'missing' / 'best.tar'),))
    with pytest.raises(FileNotFoundError, match='best.tar'):
        make_main_loop([checkpoint]).run()


@pytest.mark.skipif(os.geteuid() == 0, reason='root can write anywhere')
def test_read_only_directory_is_reported_before_training(tmp_path):
    directory = tmp_path / 'read_only'
    directory.mkdir()
    directory.chmod(0o500)
    main_loop = make_main_loop([Checkpoint(str(directory / 'model.tar'))])
    with pytest.raises(PermissionError, match='not writable'):
        main_loop.run()


def test_checkpoint_arguments_are_checked():
    with pytest.raises(TypeError, match='save_separately'):
        Checkpoint('model.tar', save_separately='log')


@pytest.fixture
def checkpoint_of_three_batches(tmp_path):
    path = str(tmp_path / 'model.tar')
    make_main_loop([FinishAfter(after_n_batches=3),
                    Checkpoint(path, after_batch=True)],
                   model=make_model(value=2.)).run()
    return path


def test_load_parameters_log_and_iteration_state(checkpoint_of_three_batches):
    path = checkpoint_of_three_batches
    model = make_model(value=0.)
    main_loop = make_main_loop(
        [Load(path, load_iteration_state=True, load_log=True),
         FinishAfter(after_n_batches=5)], model=model)
    main_loop.run()
    assert_array_equal(model.get_parameter_dict()['/mlp/linear_0.W']
                       .get_value(), numpy.full((2, 3), 2.))
    # The epoch went on where it stopped, in the loaded log.
    assert main_loop.algorithm.batch == {'data': 4}
    assert main_loop.log[3][LOADED_FROM] == path
    assert main_loop.log.status['iterations_done'] == 5
    assert main_loop.log.status['resumed_from'] is not None


def test_load_only_parameters(checkpoint_of_three_batches):
    main_loop = make_main_loop([Load(checkpoint_of_three_batches),
                                FinishAfter(after_n_batches=1)])
    main_loop.run()
    assert main_loop.algorithm.batch == {'data': 0}
    assert main_loop.log[0][LOADED_FROM] == checkpoint_of_three_batches


def test_load_without_a_file_warns(tmp_path, caplog):
    main_loop = make_main_loop([Load(str(tmp_path / 'missing.tar')),
                                FinishAfter(after_n_batches=1)])
    with caplog.at_level(logging.WARNING):
        main_loop.run()
    assert 'No dump found' in caplog.text
    assert LOADED_FROM not in main_loop.log[0]


def test_load_of_a_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / 'notes.txt'
    path.write_text('hello' * 1000)
    main_loop = make_main_loop([Load(str(path))])
    with pytest.raises(tarfile.ReadError, match='Failed to load the state'):
        main_loop.run()


def test_load_names_mismatched_parameters(checkpoint_of_three_batches):
    main_loop = make_main_loop([Load(checkpoint_of_three_batches)],
                               model=make_model(name='other'))
    with pytest.raises(ValueError) as info:
        main_loop.run()
    message = str(info.value)
    assert 'Failed to load the state' in message
    assert "Missing from the file: ['/other/linear_0.W'" in message
    assert "In the file but not in the model: ['/mlp/linear_0.W'" in message


def test_load_names_mismatched_shapes(checkpoint_of_three_batches):
    main_loop = make_main_loop([Load(checkpoint_of_three_batches)],
                               model=make_model(dims=(2, 4, 2)))
    with pytest.raises(ValueError, match=r"parameter '/mlp/linear_0.b': the "
                       r"model has shape \(4,\), .*model.tar' has \(3,\)"):
        main_loop.run()


def make_algorithm(seed, extra=False):
    """An Adam-like update graph with a dropout generator (not compiled)."""
    weights = pytensor.shared(numpy.ones(3), name='W')
    time = pytensor.shared(numpy.array(0.), name='time')
    x = pytensor.tensor.vector('x')
    cost = ComputationGraph((x * weights).sum())
    dropped, = apply_dropout(cost, [x], 0.5, seed=seed).outputs
    updates = [(weights, weights - pytensor.grad(dropped, weights)),
               (time, time + 1)]
    if extra:
        extra_variable = pytensor.shared(numpy.zeros(2), name='extra')
        updates.append((extra_variable, extra_variable + 1))
    return UpdatesAlgorithm(updates=updates), weights, time


def test_algorithm_state_is_matched_by_position():
    saved, saved_weights, saved_time = make_algorithm(seed=1)
    saved_time.set_value(numpy.array(7.))
    saved_weights.set_value(numpy.full(3, 5.))
    generator, = [v for v in algorithm_state_variables(saved)
                  if v.name not in ('W', 'time')]
    generator.get_value(borrow=True).random()
    current, weights, time = make_algorithm(seed=2)
    assert restore_algorithm_state(current, saved, skip=[weights]) == 2
    assert time.get_value() == 7.
    assert_array_equal(weights.get_value(), numpy.ones(3))
    current_generator, = [v for v in algorithm_state_variables(current)
                          if v.name not in ('W', 'time')]
    assert (current_generator.get_value().random()
            == generator.get_value().random())


def test_algorithm_state_mismatch_lists_both_sides():
    saved, _, _ = make_algorithm(seed=1)
    current, _, time = make_algorithm(seed=1, extra=True)
    with pytest.raises(ValueError, match=r"(?s)has 3 shared variables, the "
                       r"current one 4.*Saved \(3\): .*Current \(4\): "
                       r".*extra"):
        restore_algorithm_state(current, saved, path='model.tar')
    assert time.get_value() == 0.


def test_do_called_outside_a_dispatch_saves_every_time(tmp_path,
                                                       monkeypatch):
    dumps = []
    real_secure_dump = writer_module.secure_dump
    monkeypatch.setattr(writer_module, 'secure_dump', lambda *args, **kwargs: (
        dumps.append(args[1]), real_secure_dump(*args, **kwargs)))
    checkpoint = Checkpoint(str(tmp_path / 'model.tar'))
    checkpoint.main_loop = make_main_loop([checkpoint])
    checkpoint.do('after_training')
    checkpoint.do('after_training', str(tmp_path / 'other.tar'))
    assert dumps == [str(tmp_path / 'model.tar'), str(tmp_path / 'other.tar')]
