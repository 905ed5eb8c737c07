"""``blocks-continue``: the command line around continue_training."""
import logging
import os
import subprocess
import sys

import pytest

from blocks.extensions import FinishAfter
from blocks.extensions.saveload import Checkpoint
from blocks.main_loop import MainLoop
from blocks.scripts.continue_training import main
from blocks.serialization import load
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_help_describes_the_command():
    result = subprocess.run(
        [sys.executable, '-m', 'blocks.scripts.continue_training', '--help'],
        cwd=REPOSITORY, capture_output=True, text=True, check=True,
        env=dict(os.environ, PYTHONPATH=REPOSITORY))
    assert result.stdout.startswith('usage: blocks-continue [-h] path')
    assert 'Continues your pickled main loop' in result.stdout
    assert 'checkpoints you trust' in ' '.join(result.stdout.split())


def test_continues_a_checkpoint_where_it_was_taken(tmp_path):
    midway, final = str(tmp_path / 'midway.tar'), str(tmp_path / 'final.tar')
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(10)), extensions=[
        FinishAfter(after_n_batches=5),
        Checkpoint(midway, after_n_batches=2, after_training=False),
        Checkpoint(final)])
    main_loop.run()
    os.remove(final)
    main([midway])
    with open(final, 'rb') as file_:
        resumed = load(file_)
    assert resumed.status['iterations_done'] == 5
    assert resumed.algorithm.batch == {'data': 4}
    assert resumed.status['resumed_from'] is not None


def test_a_finished_training_is_continued_with_a_warning(tmp_path, caplog):
    path = str(tmp_path / 'model.tar')
    MainLoop(MockAlgorithm(), ListStream(range(3)), extensions=[
        FinishAfter(after_n_batches=2), Checkpoint(path),
        # Stops the continued training, which FinishAfter does not.
        FinishAfter(every_n_batches=3)]).run()
    with caplog.at_level(logging.WARNING):
        main([path])
    assert 'was saved after training had finished' in caplog.text


@pytest.mark.parametrize('content, message', [
    (None, 'No such file'),
    (b'not a checkpoint', 'is not a checkpoint'),
])
def test_unreadable_checkpoints_are_one_line_errors(tmp_path, capsys,
                                                    content, message):
    path = tmp_path / 'model.tar'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SystemExit) as info:
        main([str(path)])
    assert str(info.value).startswith('blocks-continue: error: ')
    assert message in str(info.value)
