"""``blocks-continue``: the command line around continue_training."""
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from blocks.extensions import FinishAfter, SimpleExtension
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
    assert result.stdout.startswith('usage: blocks-continue [-h] [--here]')
    assert '--more-epochs N' in result.stdout
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


class InterruptAt(SimpleExtension):
    """Sends the given signal to this process after the given batch."""

    def __init__(self, iteration, signal_number, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.iteration, self.signal_number = iteration, signal_number

    def do(self, which_callback, *args):
        if self.main_loop.status['iterations_done'] == self.iteration:
            os.kill(os.getpid(), self.signal_number)


def finished_checkpoint(tmp_path):
    path = str(tmp_path / 'model.tar')
    MainLoop(MockAlgorithm(), ListStream(range(3)), extensions=[
        FinishAfter(after_n_batches=2), Checkpoint(path)]).run()
    return path


def test_a_finished_training_is_not_continued(tmp_path, capsys, caplog):
    path = finished_checkpoint(tmp_path)
    before = open(path, 'rb').read()
    main([path])
    out = capsys.readouterr().out
    assert 'saved after training had finished: nothing to continue' in out
    assert '--extend, --more-epochs N or --more-batches N' in out
    assert open(path, 'rb').read() == before


def test_a_finished_training_is_extended_on_request(tmp_path, caplog):
    path = finished_checkpoint(tmp_path)
    main([path, '--more-batches', '3'])
    with open(path, 'rb') as file_:
        resumed = load(file_)
    assert resumed.status['iterations_done'] == 5
    with caplog.at_level(logging.WARNING):
        with pytest.raises(SystemExit, match='positive'):
            main([path, '--more-epochs', '0'])


@pytest.mark.parametrize('signal_number', [signal.SIGINT, signal.SIGTERM])
def test_no_false_finished_warning_after_an_interruption(
        tmp_path, caplog, signal_number):
    path = str(tmp_path / 'model.tar')
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(4)), extensions=[
        InterruptAt(2, signal_number), FinishAfter(after_n_batches=6),
        Checkpoint(path)])
    main_loop.run()
    stopped_at = main_loop.status['iterations_done']
    assert stopped_at < 6
    with caplog.at_level(logging.WARNING):
        main([path])
    assert 'after training had finished' not in caplog.text
    with open(path, 'rb') as file_:
        assert load(file_).status['iterations_done'] == 6


def run_in(directory, code):
    subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                   cwd=directory, check=True, capture_output=True,
                   env=dict(os.environ, PYTHONPATH=REPOSITORY))


UNPICKLABLE_RUN = """
    import os
    from blocks.extensions import FinishAfter
    from blocks.extensions.saveload import Checkpoint
    from blocks.main_loop import MainLoop
    from blocks.utils.testing import MockAlgorithm
    from tests.scripts.test_continue_training import OpensFileIfPoisoned
    from tests.streams import ListStream
    MainLoop(MockAlgorithm(), ListStream(range(10)), extensions=[
        FinishAfter(after_n_batches=8), OpensFileIfPoisoned(),
        Checkpoint('checkpoint.tar', every_n_batches=2)]).run()
"""


class OpensFileIfPoisoned(SimpleExtension):
    """Keeps an open file (unpicklable) from batch 5 on, if ``poison`` is."""

    def __init__(self, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.opened = None

    def do(self, which_callback, *args):
        if (self.main_loop.status['iterations_done'] == 5
                and os.path.exists('poison')):
            self.opened = open('poison')


def test_an_unpicklable_object_mid_run_keeps_the_checkpoint_resumable(
        tmp_path):
    (tmp_path / 'poison').write_text('')
    result = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(UNPICKLABLE_RUN)],
        cwd=tmp_path, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=REPOSITORY))
    assert result.returncode != 0
    assert "'checkpoint.tar' was not replaced" in ' '.join(
        result.stderr.split()).replace(str(tmp_path) + '/', '')
    assert 'checkpoint.parameters-and-log.tar' in result.stderr
    assert iterations(tmp_path / 'checkpoint.tar') == 4
    with open(tmp_path / 'checkpoint.parameters-and-log.tar', 'rb') as file_:
        assert load(file_, 'log').status['iterations_done'] == 6
    os.remove(tmp_path / 'poison')
    continue_in(tmp_path, tmp_path / 'checkpoint.tar')
    with open(tmp_path / 'checkpoint.tar', 'rb') as file_:
        resumed = load(file_)
    assert resumed.status['iterations_done'] == 8
    assert resumed.log.current_row.get('training_finished')


RELATIVE_RUN = """
    from blocks.extensions import FinishAfter
    from blocks.extensions.saveload import Checkpoint
    from blocks.log import SQLiteLog
    from blocks.main_loop import MainLoop
    from blocks.utils.testing import MockAlgorithm
    from tests.streams import ListStream
    MainLoop(MockAlgorithm(), ListStream(range(10)), extensions=[
        FinishAfter(after_n_batches=5),
        Checkpoint('midway.tar', after_n_batches=2, after_training=False),
        Checkpoint('final.tar')], log=SQLiteLog('log.sqlite')).run()
"""


@pytest.fixture
def relative_run(tmp_path):
    """A run whose checkpoints have relative paths, started in ``run/``."""
    run = tmp_path / 'run'
    run.mkdir()
    run_in(run, RELATIVE_RUN)
    os.remove(run / 'final.tar')
    return run


def continue_in(directory, *arguments):
    result = subprocess.run(
        [sys.executable, '-m', 'blocks.scripts.continue_training',
         *map(str, arguments)], cwd=directory, capture_output=True,
        text=True, env=dict(os.environ, PYTHONPATH=REPOSITORY))
    assert result.returncode == 0, result.stderr
    return result


def iterations(path):
    with open(path, 'rb') as file_:
        return load(file_).status['iterations_done']


def log_database(path):
    with open(path, 'rb') as file_:
        return load(file_).log.database


def test_continue_from_another_directory_writes_where_the_run_did(
        relative_run, tmp_path):
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    continue_in(elsewhere, relative_run / 'midway.tar')
    assert iterations(relative_run / 'final.tar') == 5
    # The log went on in the run's own file too.
    assert log_database(relative_run / 'final.tar') == str(
        relative_run / 'log.sqlite')
    assert os.listdir(elsewhere) == []


def test_continue_here_writes_beside_the_copy(relative_run, tmp_path):
    copy = tmp_path / 'copy'
    copy.mkdir()
    for name in os.listdir(relative_run):
        if name.startswith(('midway.tar', 'log.sqlite')):
            shutil.copy(relative_run / name, copy / name)
    continue_in(relative_run, copy / 'midway.tar', '--here')
    assert iterations(copy / 'final.tar') == 5
    assert log_database(copy / 'final.tar') == str(copy / 'log.sqlite')
    assert not os.path.exists(relative_run / 'final.tar')
    # Without --here, the copy's run writes where the original run did,
    # and says so.
    result = continue_in(tmp_path, copy / 'midway.tar')
    assert 'Use --here' in result.stderr
    assert str(relative_run / 'final.tar') in result.stderr
    assert iterations(relative_run / 'final.tar') == 5


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
