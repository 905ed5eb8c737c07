"""Recurrent training killed with SIGKILL resumes bit-identically.

The run (``tests/resumable_recurrent.py``: a gated recurrent network,
Adam, a shuffled stream) is killed in the middle of an epoch, after batch
7, whose last checkpoint is that of batch 6, and resumed with
``blocks-continue``. Its final parameters and log must equal those of an
uninterrupted run, bit for bit.
"""
import os

import numpy

from tests.resumable_recurrent import (BATCHES_PER_EPOCH, CHECKPOINT,
                                       KILLS_DONE, NUM_BATCHES)
from tests.test_resumption import (BOOKKEEPING, CONTINUE, finish, load,
                                   load_parameters, start, sys)

SCRIPT = [sys.executable, '-m', 'tests.resumable_recurrent']


def final_state(directory):
    with open(os.path.join(directory, CHECKPOINT), 'rb') as file_:
        parameters = load_parameters(file_)
        log = load(file_).log
    rows = {time: {key: value for key, value in log[time].items()
                   if key not in BOOKKEEPING}
            for time in sorted(log)}
    return parameters, {time: row for time, row in rows.items() if row}, \
        log.status['iterations_done']


def test_killed_recurrent_training_resumes_exactly(tmp_path):
    uninterrupted_dir = tmp_path / 'uninterrupted'
    killed_dir = tmp_path / 'killed'
    uninterrupted_dir.mkdir()
    killed_dir.mkdir()
    # Both first runs at once: each compiles the same functions.
    uninterrupted = start(SCRIPT + [str(uninterrupted_dir)])
    killed = start(SCRIPT + [str(killed_dir), '--kill', '7'])
    finish(killed, killed=True)
    finish(uninterrupted, killed=False)
    finish(start(CONTINUE + [str(killed_dir / CHECKPOINT)]), killed=False)
    assert (killed_dir / KILLS_DONE).read_text().split() == ['7']

    parameters, rows, iterations = final_state(str(killed_dir))
    expected_parameters, expected_rows, expected_iterations = final_state(
        str(uninterrupted_dir))
    assert iterations == expected_iterations == NUM_BATCHES
    assert sorted(parameters) == sorted(expected_parameters)
    assert any(name.endswith('transition.state_to_gates')
               for name in parameters)
    for name, value in expected_parameters.items():
        assert parameters[name].tobytes() == value.tobytes(), name
    epoch_ends = list(range(BATCHES_PER_EPOCH, NUM_BATCHES + 1,
                            BATCHES_PER_EPOCH))
    assert [time for time in rows if 'train_cost' in rows[time]] == \
        epoch_ends
    assert sorted(rows) == sorted(expected_rows)
    for time, row in expected_rows.items():
        assert sorted(rows[time]) == sorted(row)
        for key, value in row.items():
            assert numpy.array_equal(rows[time][key], value), (time, key)
