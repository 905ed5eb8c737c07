"""The distributed example runs as a plain script without mpirun."""
import re

import pytensor

from examples import distributed


def test_example_trains_in_one_process_without_mpi(tmp_path, capsys):
    # Compiling dominates two epochs of digits: compile little.
    with pytensor.config.change_flags(mode='FAST_COMPILE'):
        status = distributed.main(['--output-dir', str(tmp_path),
                                   '--epochs', '2', '--hidden', '20'])
    assert status == 0
    output = capsys.readouterr().out
    error = re.search(r"1 rank\(s\): held-out error rate (\S+)%", output)
    assert error is not None, output
    assert float(error.group(1)) < 50  # 10 classes: chance is 90 % error
    assert (tmp_path / 'checkpoint.tar').exists()
    assert (tmp_path / 'log.sqlite').exists()
