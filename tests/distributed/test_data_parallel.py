"""Data-parallel training under ``mpirun -n 2`` on this machine.

Each test runs ``tests/distributed/training.py`` (a tiny MLP with Adam,
validation monitoring, early stopping and checkpoints) as a real MPI job,
and compares it with the same script run in one process.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy
import pytest

from blocks.distributed import find_mpirun, mpirun_command

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = [sys.executable, '-m', 'tests.distributed.training']
#: Seconds per run: the first one may compile C code from scratch.
TIMEOUT = 300


def _mpi_missing_reason():
    try:
        import mpi4py  # noqa: F401
    except ImportError as error:
        return f"mpi4py is not installed ({error}): pip install '.[mpi]'"
    try:
        find_mpirun()
    except FileNotFoundError as error:
        return str(error)
    return None


pytestmark = pytest.mark.skipif(_mpi_missing_reason() is not None,
                                reason=str(_mpi_missing_reason()))


def start(directory, *options, ranks=2):
    launcher = mpirun_command(ranks) if ranks > 1 else []
    # Every run compiles its functions again: FAST_COMPILE halves the cost
    # of these tiny runs, and every run of a comparison uses it.
    flags = ','.join(filter(None, [os.environ.get('PYTENSOR_FLAGS'),
                                   'mode=FAST_COMPILE']))
    return subprocess.Popen(
        launcher + SCRIPT + [str(directory)] + list(options),
        cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=REPOSITORY, OMP_NUM_THREADS='1',
                 OPENBLAS_NUM_THREADS='1', PYTENSOR_FLAGS=flags),
        text=True)


def finish(process):
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"the MPI job hung for {TIMEOUT} s:\n{output}")
    return process.returncode, output


def run(directory, *options, ranks=2):
    returncode, output = finish(start(directory, *options, ranks=ranks))
    assert returncode == 0, output
    return output


def results(directory, ranks=(0, 1)):
    out = []
    for rank in ranks:
        with open(os.path.join(directory, f'rank{rank}.json')) as file_:
            summary = json.load(file_)
        with numpy.load(os.path.join(directory, f'rank{rank}.npz')) as npz:
            summary['parameters'] = dict(npz)
        out.append(summary)
    return out


@pytest.fixture(scope='module')
def one_rank(tmp_path_factory):
    directory = tmp_path_factory.mktemp('one_rank')
    run(directory, ranks=1)
    return results(directory, ranks=(0,))[0]


@pytest.fixture(scope='module')
def two_ranks(tmp_path_factory):
    directory = tmp_path_factory.mktemp('two_ranks')
    run(directory)
    return results(directory)


def assert_same_parameters(first, second, **tolerance):
    assert first.keys() == second.keys()
    for name in first:
        if tolerance:
            numpy.testing.assert_allclose(first[name], second[name],
                                          err_msg=name, **tolerance)
        else:
            numpy.testing.assert_array_equal(first[name], second[name],
                                             err_msg=name)


def test_parameters_bit_identical_on_both_ranks(two_ranks):
    rank0, rank1 = two_ranks
    assert rank0['iterations_done'] > 0
    assert_same_parameters(rank0['parameters'], rank1['parameters'])


def test_two_ranks_match_one_rank_on_the_union_of_their_batches(
        one_rank, two_ranks):
    rank0 = two_ranks[0]
    assert rank0['iterations_done'] == one_rank['iterations_done']
    assert_same_parameters(one_rank['parameters'], rank0['parameters'],
                           rtol=1e-9, atol=1e-12)
    # The monitored values are aggregated over both ranks' shards.
    for record in ('train_cost', 'valid_cost'):
        expected = one_rank['records'][record]
        assert rank0['records'][record].keys() == expected.keys()
        for time_, value in expected.items():
            assert rank0['records'][record][time_] == pytest.approx(
                value, rel=1e-9), (record, time_)


def test_early_stopping_stops_both_ranks_at_the_same_iteration(
        one_rank, two_ranks):
    stopped_at = {summary['iterations_done']
                  for summary in two_ranks + [one_rank]}
    assert len(stopped_at) == 1
    for summary in two_ranks:
        assert summary['training_finished']
        patience = summary['records'][
            'valid_cost_best_so_far_patience_epochs']
        assert min(patience.values()) <= 0
        # Stopped by the patience, well before FinishAfter's 30 epochs.
        assert summary['epochs_done'] < 30


def test_finish_requested_on_one_rank_stops_every_rank(tmp_path):
    run(tmp_path, '--finish-on-rank1', '5')
    for summary in results(tmp_path):
        assert summary['training_finished']
        assert summary['iterations_done'] == 5


def test_sigterm_to_one_rank_stops_both_at_the_same_iteration(tmp_path):
    process = start(tmp_path, '--endless')
    pid_file = tmp_path / 'pid1'
    deadline = time.monotonic() + TIMEOUT
    while not pid_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the endless run did not start:\n" +
                        process.communicate()[0])
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGTERM)
    returncode, output = finish(process)
    assert returncode == 0, output
    rank0, rank1 = results(tmp_path)
    assert rank0['iterations_done'] == rank1['iterations_done'] > 1
    assert rank0['training_finished'] and rank1['training_finished']
    # Rank 0 did not receive the signal, but logs the interrupt.
    assert rank0['records']['batch_interrupt_received']
    assert_same_parameters(rank0['parameters'], rank1['parameters'])


def test_killed_rank_ends_the_job_and_the_checkpoint_resumes_exactly(
        tmp_path, two_ranks):
    returncode, output = finish(start(tmp_path, '--kill', '7'))
    assert returncode != 0
    # The launcher says which process died, and how.
    assert re.search(r'(?i)signal:? 9', output), output
    assert not (tmp_path / 'rank0.json').exists(), output
    # Checkpoints are written every 3 batches: resumed from batch 6.
    run(tmp_path, '--continue')
    resumed = results(tmp_path)
    for summary, uninterrupted in zip(resumed, two_ranks, strict=True):
        assert summary['iterations_done'] == uninterrupted['iterations_done']
        assert_same_parameters(summary['parameters'],
                               uninterrupted['parameters'])
        assert summary['records'] == uninterrupted['records']


def test_failing_rank_aborts_the_job_with_a_clear_message(tmp_path):
    returncode, output = finish(start(tmp_path, '--fail', '2'))
    assert returncode != 0
    assert 'rank 1 of 2 failed: RuntimeError: a failure planted' in output
    assert 'Aborting the whole job' in output
