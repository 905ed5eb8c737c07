"""Training killed with SIGKILL and resumed ends exactly as if never stopped.

Every run is a real subprocess of ``tests/resumable_training.py`` (an MLP
with dropout, Adam, a shuffled stream and epoch-mean monitoring), killed at
chosen points: after a batch in the middle of an epoch, after a batch just
before an epoch ends, and in the middle of writing a checkpoint. The final
parameters must be bit-identical to an uninterrupted run's, and the log
records the same, for both ways to resume: ``blocks-continue`` (the pickled
main loop) and running the script again with ``Load``.
"""
import os
import signal
import subprocess
import sys

import numpy
import pytest

from blocks.serialization import load, load_parameters
from tests.resumable_training import CHECKPOINT, KILLS_DONE

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = [sys.executable, '-m', 'tests.resumable_training']
CONTINUE = [sys.executable, '-m', 'blocks.scripts.continue_training']
#: Seconds per run; the first one may compile C code from scratch.
TIMEOUT = 600
#: Records that say how the run went rather than what it computed.
BOOKKEEPING = ('saved_to', 'loaded_from')


def start(command):
    return subprocess.Popen(
        command, cwd=REPOSITORY, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=REPOSITORY))


def finish(process, killed):
    output, _ = process.communicate(timeout=TIMEOUT)
    expected = -signal.SIGKILL if killed else 0
    assert process.returncode == expected, output.decode(errors='replace')


def run(command, killed):
    finish(start(command), killed)


def final_state(directory):
    with open(os.path.join(directory, CHECKPOINT), 'rb') as file_:
        parameters = load_parameters(file_)
        log = load(file_).log
    rows = {}
    for time in sorted(log):
        row = {key: value for key, value in log[time].items()
               if key not in BOOKKEEPING}
        if row:
            rows[time] = row
    status = {key: log.status[key]
              for key in ('iterations_done', 'epochs_done', '_epoch_ends')}
    return parameters, rows, status


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    """The uninterrupted run, in the background while the first test runs."""
    directory = str(tmp_path_factory.mktemp('uninterrupted'))
    process = start(SCRIPT + [directory])
    state = []

    def get():
        if not state:
            finish(process, killed=False)
            state.append(final_state(directory))
        return state[0]
    yield get
    if process.poll() is None:
        process.kill()
        process.wait()


def assert_same_training(state, expected):
    parameters, rows, status = state
    expected_parameters, expected_rows, expected_status = expected
    assert sorted(parameters) == sorted(expected_parameters)
    for name, value in expected_parameters.items():
        assert parameters[name].tobytes() == value.tobytes(), name
    assert status == expected_status == {
        'iterations_done': 15, 'epochs_done': 3, '_epoch_ends': [5, 10, 15]}
    assert sorted(rows) == sorted(expected_rows) == [5, 10, 15]
    for time, row in expected_rows.items():
        assert sorted(rows[time]) == sorted(row)
        for key, value in row.items():
            assert numpy.array_equal(rows[time][key], value), (time, key)


def stray_temporary_files(directory):
    return [name for name in os.listdir(directory)
            if name.startswith('.' + CHECKPOINT)]


@pytest.mark.parametrize('resume_with, kills', [
    # Mid-epoch (resumes from batch 3); then killed writing the checkpoint
    # of batch 12 (resumes from the end of epoch 2, batch 10).
    ('blocks-continue', ['4', 'w12']),
    # Mid-epoch twice (from batches 3 and 6), then during a write.
    ('Load', ['4', '8', 'w12']),
])
def test_killed_training_resumes_exactly(resume_with, kills, uninterrupted,
                                         tmp_path):
    directory = str(tmp_path)
    checkpoint = os.path.join(directory, CHECKPOINT)
    first_run = SCRIPT + [directory, '--kill'] + kills
    if resume_with == 'Load':
        first_run.append('--load')
        resume = first_run
    else:
        resume = CONTINUE + [checkpoint]
    run(first_run, killed=True)
    for kill in kills[1:]:
        run(resume, killed=True)
        if kill.startswith('w'):
            # The write was cut short; the previous checkpoint is intact.
            assert len(stray_temporary_files(directory)) == 1
    run(resume, killed=False)
    with open(os.path.join(directory, KILLS_DONE)) as file_:
        assert file_.read().split() == kills
    assert_same_training(final_state(directory), uninterrupted())
