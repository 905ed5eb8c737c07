"""blocks.distributed in one process: sharding, launcher lookup, and a
single-process run that is the plain one (no MPI needed)."""
import os
import pickle
import re
import subprocess
import sys

import numpy
import pytest
from pytensor import tensor

from blocks.algorithms import GradientDescent, Scale
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import (ConstantScheme, SequentialScheme,
                                 ShuffledExampleScheme, ShuffledScheme)
from blocks.data.streams import DataStream
from blocks.distributed import (LAUNCHER_VARIABLES, AgreeOnStop,
                                DistributedGradientDescent,
                                DistributedMainLoop, ShardedScheme,
                                SingleProcess, find_mpirun, mpirun_command)
from blocks.distributed.main_loop import SaveOnRank0
from blocks.extensions import FinishAfter, Printing
from blocks.extensions.saveload import Checkpoint
from blocks.utils import shared_floatx


class FakeComm:
    """Rank `rank` of `size`, whose peers all hold the same values."""

    def __init__(self, rank, size, others=None):
        self.rank, self.size, self.others = rank, size, others

    def allgather(self, value):
        return [value if self.others is None else self.others] + [value] * (
            self.size - 1)


def epoch(scheme):
    return [list(request) for request in scheme.get_request_iterator()]


@pytest.mark.parametrize('size', [2, 3])
def test_union_of_the_shards_is_the_single_process_epoch(size):
    def shuffled():
        return ShuffledScheme(23, 8, rng=numpy.random.RandomState(5))
    single = epoch(shuffled())
    shards = [epoch(ShardedScheme(shuffled(), comm=FakeComm(rank, size)))
              for rank in range(size)]
    assert all(len(shard) == len(single) for shard in shards)
    for index, request in enumerate(single):
        joined = [example for shard in shards for example in shard[index]]
        assert joined == request


def test_shards_keep_the_index_arrays_of_the_requests():
    scheme = ShardedScheme(SequentialScheme(10, 4), comm=FakeComm(1, 2))
    first = next(scheme.get_request_iterator())
    assert first == [2, 3]
    numpy.testing.assert_array_equal(first.array, [2, 3])


def test_an_epoch_pickled_on_rank_0_resumes_on_rank_1():
    scheme = ShardedScheme(ShuffledScheme(12, 4), comm=FakeComm(0, 2))
    iterator = scheme.get_request_iterator()
    next(iterator)
    restored = pickle.loads(pickle.dumps(iterator))
    assert restored.comm is None  # the rank is looked up, not saved
    rank0_next = next(iterator)
    restored.comm = FakeComm(1, 2)
    rank1_next = next(restored)
    assert sorted(rank0_next + rank1_next) != []
    assert not set(rank0_next) & set(rank1_next)
    assert len(rank0_next) == len(rank1_next) == 2


def test_ranks_drawing_different_batches_fail_clearly():
    scheme = ShardedScheme(SequentialScheme(8, 4),
                           comm=FakeComm(1, 2, others=12345))
    with pytest.raises(RuntimeError, match='same seed on every rank'):
        next(scheme.get_request_iterator())


@pytest.mark.parametrize('scheme, what', [
    (ConstantScheme(4, num_examples=8), 'batch sizes'),
    (ShuffledExampleScheme(8), 'single examples')])
def test_sharding_needs_batches_of_indices(scheme, what):
    with pytest.raises(ValueError, match=what):
        ShardedScheme(scheme)


def test_without_a_launcher_mpi4py_is_not_even_imported():
    environment = {key: value for key, value in os.environ.items()
                   if key not in LAUNCHER_VARIABLES}
    code = ("import sys; from blocks.distributed import world; "
            "print(world(), 'mpi4py' in sys.modules)")
    output = subprocess.run([sys.executable, '-c', code], env=environment,
                            capture_output=True, text=True, check=True)
    assert output.stdout.split() == ['SingleProcess()', 'False']


def test_find_mpirun_follows_the_override(monkeypatch, tmp_path):
    monkeypatch.setenv('BLOCKS_MPIRUN', sys.executable)
    assert find_mpirun() == sys.executable
    monkeypatch.setenv('BLOCKS_MPIRUN', str(tmp_path / 'missing'))
    with pytest.raises(FileNotFoundError, match='not an executable'):
        find_mpirun()


@pytest.mark.parametrize('ranks', [0, -1, 1.5, True])
def test_mpirun_command_needs_a_positive_number_of_ranks(ranks):
    with pytest.raises(ValueError, match='positive integer'):
        mpirun_command(ranks)


def quadratic(algorithm_class, **kwargs):
    w = shared_floatx(numpy.array([1., -2., 3.]), name='w')
    x = tensor.matrix('x')
    cost = ((x - w) ** 2).sum(axis=1).mean()
    return w, algorithm_class(cost=cost, parameters=[w],
                              step_rule=Scale(0.1), **kwargs)


def test_one_process_trains_exactly_like_gradient_descent():
    batches = numpy.random.RandomState(1).normal(size=(5, 4, 3))
    results = []
    for algorithm_class in (GradientDescent, DistributedGradientDescent):
        w, algorithm = quadratic(algorithm_class)
        algorithm.initialize()
        for batch in batches:
            algorithm.process_batch({'x': batch})
        results.append(w.get_value())
    numpy.testing.assert_array_equal(*results)
    # One compiled step, no split into gradients and update.
    assert not hasattr(algorithm, '_gradient_function')


def test_check_every_must_be_a_positive_integer():
    with pytest.raises(ValueError, match='check_every'):
        quadratic(DistributedGradientDescent, check_every=0)


def test_one_process_main_loop_is_the_plain_main_loop():
    w, algorithm = quadratic(DistributedGradientDescent,
                             comm=SingleProcess())
    data = numpy.random.RandomState(2).normal(size=(12, 3))
    stream = DataStream(IndexableDataset({'x': data}),
                        iteration_scheme=ShardedScheme(SequentialScheme(
                            12, 4)))
    finish = FinishAfter(after_n_epochs=2)
    main_loop = DistributedMainLoop(algorithm, stream, extensions=[finish])
    main_loop.run()
    assert main_loop.extensions == [finish]
    assert main_loop.status['iterations_done'] == 6
    expected = numpy.array([1., -2., 3.])
    for _ in range(2):
        for start in range(0, 12, 4):
            expected -= 0.1 * 2 * (expected - data[start:start + 4]).mean(0)
    numpy.testing.assert_allclose(w.get_value(), expected)


class Aborted(Exception):
    """What FakeComm.Abort raises instead of ending the process."""


class AbortingComm(FakeComm):
    def Abort(self, errorcode):  # noqa: N802 (mpi4py's name)
        raise Aborted(errorcode)


def two_rank_main_loop(comm, algorithm_class=DistributedGradientDescent,
                       sharded=True, extensions=()):
    w, algorithm = quadratic(algorithm_class)
    scheme = SequentialScheme(12, 4)
    stream = DataStream(IndexableDataset({'x': numpy.zeros((12, 3))}),
                        iteration_scheme=(ShardedScheme(scheme) if sharded
                                          else scheme))
    return DistributedMainLoop(algorithm, stream, comm=comm,
                               extensions=list(extensions))


@pytest.mark.parametrize('options, message', [
    ({'algorithm_class': GradientDescent}, 'DistributedGradientDescent'),
    ({'sharded': False}, r'ShardedScheme\(SequentialScheme')])
def test_a_rank_that_can_not_train_aborts_the_job_saying_why(
        options, message, caplog):
    main_loop = two_rank_main_loop(AbortingComm(1, 2), **options)
    with pytest.raises(Aborted):
        main_loop.run()
    assert 'rank 1 of 2 failed: ValueError' in caplog.text
    assert re.search(message, caplog.text)


def test_ranks_other_than_0_do_not_write(tmp_path):
    printing = Printing()
    checkpoint = Checkpoint(str(tmp_path / 'checkpoint.tar'))
    mine = FinishAfter(after_n_epochs=1)
    extensions = [printing, checkpoint, mine]
    main_loop = two_rank_main_loop(FakeComm(1, 2), extensions=extensions)
    main_loop.root_only = [mine]
    main_loop._prepare_ranks(main_loop.comm)
    assert isinstance(main_loop.extensions[-1], AgreeOnStop)
    for extension in (printing, mine):
        assert extension.__dict__['dispatch'] is not type(extension).dispatch
    # The checkpoint's conditions still fire on every rank (to gather
    # the partial monitoring values), but only rank 0 saves.
    assert isinstance(checkpoint.__dict__['do'], SaveOnRank0)
    assert 'dispatch' not in checkpoint.__dict__
    assert main_loop.log.__class__.__name__ == 'TrainingLog'
