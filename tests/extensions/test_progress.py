"""The progress bar as a user sees it: totals, ETA, records, plain lines."""
import contextlib
import io
import pickle
import re

import numpy
import pytest

from blocks.data.datasets import IndexableDataset, IterableDataset
from blocks.data.schemes import (
    ConstantScheme,
    SequentialExampleScheme,
    SequentialScheme,
)
from blocks.data.streams import DataStream
from blocks.data.transformers import Flatten, Mapping
from blocks.extensions import FinishAfter, ProgressBar, SimpleExtension
from blocks.main_loop import MainLoop
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


class Terminal(io.StringIO):
    """Captures what is written, and says it is a terminal."""

    def isatty(self):
        return True


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setenv('COLUMNS', '120')
    # Set in the test itself: pytest's capture resets `sys.stderr` between
    # a fixture's setup and the test.
    return Terminal()


def transformed_stream(examples=10, batch_size=2):
    """Batches of images, flattened, then mapped: the scheme is two down."""
    images = numpy.zeros((examples, 2, 2), dtype='float32')
    stream = DataStream(IndexableDataset({'features': images}),
                        iteration_scheme=SequentialScheme(examples,
                                                          batch_size))
    return Mapping(Flatten(stream), lambda data: data)


class WriteCost(SimpleExtension):
    def __init__(self, name='cost', **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.record = name

    def do(self, which_callback, *args):
        done = self.main_loop.status['iterations_done']
        self.main_loop.log.current_row[self.record] = 1 / (done + 2)


def run(stream, *extensions, epochs=1):
    main_loop = MainLoop(MockAlgorithm(), stream,
                         extensions=[*extensions,
                                     FinishAfter(after_n_epochs=epochs)])
    main_loop.run()
    return main_loop


def test_a_transformed_stream_gives_total_and_eta_on_a_terminal(terminal):
    with contextlib.redirect_stderr(terminal):
        run(transformed_stream(), ProgressBar(), WriteCost())
    output = re.sub('\x1b\\[[0-9;]*m', '', terminal.getvalue())
    # One line: redrawn with carriage returns, ended once.
    assert output.count('\n') == 1 and output.endswith('\n')
    first, *_, final = output.rstrip('\n').split('\r')[1:]
    assert first.startswith('Epoch 0, step 0/5 (  0%)')
    assert 'ETA:' in first
    assert final.startswith('Epoch 0, step 5/5 (100%)')
    # The value written after the last batch, read at the epoch's end.
    assert final.endswith(' cost=0.1429')


def test_plain_lines_when_not_a_terminal(capsys):
    main_loop = run(transformed_stream(), ProgressBar(line_interval=0),
                    WriteCost(), epochs=2)
    lines = capsys.readouterr().err.splitlines()
    # A line at each redraw (made rarer when batches are fast), and one at
    # the end of each epoch.
    epoch_0 = [line for line in lines if line.startswith('Epoch 0, ')]
    assert epoch_0[0] == ('Epoch 0, step 1/5 (20%), elapsed 0:00:00, '
                          'ETA 0:00:00')
    assert epoch_0[-1].startswith('Epoch 0, step 5/5 (100%), elapsed 0:00:00, '
                                  'ETA 0:00:00')
    assert lines[-1].startswith('Epoch 1, step 5/5 (100%)')
    assert lines[-1].endswith(' cost=0.08333')  # 1 / (10 + 2)
    assert '\r' not in ''.join(lines)
    assert main_loop.status['iterations_done'] == 10


def test_plain_lines_are_periodic(capsys):
    run(transformed_stream(examples=40), ProgressBar(line_interval=3600))
    # Nothing within the hour but the line at the end of the epoch.
    assert capsys.readouterr().err.splitlines() == [
        'Epoch 0, step 20/20 (100%), elapsed 0:00:00, ETA 0:00:00']


def test_without_a_scheme_the_previous_epoch_gives_the_total(capsys):
    run(ListStream(range(4)), ProgressBar(line_interval=0), epochs=2)
    lines = capsys.readouterr().err.splitlines()
    assert lines[3] == 'Epoch 0, step 4, elapsed 0:00:00'
    assert lines[-1].startswith('Epoch 1, step 4/4 (100%)')


def test_chosen_records_are_shown(capsys):
    run(ListStream(range(3)), WriteCost('valid_error'), WriteCost('other'),
        ProgressBar(records=['valid_error'], line_interval=0))
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.endswith(' valid_error=0.2')
    assert 'other' not in last


def test_records_must_be_a_list():
    with pytest.raises(TypeError, match=r"\['cost'\]"):
        ProgressBar(records='cost')


def reference_loop(scheme):
    """The reference's ``setup_mainloop``: an IterableDataset stream."""
    features = [numpy.array(f, dtype='float32')
                for f in [[1, 2], [3, 4], [5, 6]]]
    stream = DataStream(IterableDataset({'features': features}))
    # The scheme is set as an attribute, as the bar only reads it.
    stream.iteration_scheme = scheme
    return MainLoop(MockAlgorithm(), stream)


@pytest.mark.parametrize('scheme, expected', [
    (SequentialExampleScheme(100), 100),
    (SequentialScheme(1000, 10), 100),
    (ConstantScheme(10, num_examples=1000), 100),
    (SequentialScheme(1001, 10), 101),
    (ConstantScheme(10, num_examples=1001), 101)])
def test_iterations_per_epoch_from_the_schemes_of_the_reference(scheme,
                                                                 expected):
    progress_bar = ProgressBar()
    progress_bar.main_loop = reference_loop(scheme)
    assert progress_bar.get_iter_per_epoch() == expected


def test_pickles_without_its_bar(terminal):
    bar = ProgressBar()
    bar.main_loop = MainLoop(MockAlgorithm(), ListStream([1, 2]))
    bar.before_epoch()
    with contextlib.redirect_stderr(terminal):
        bar.before_batch({'data': 1})
    assert bar.bar is not None
    assert pickle.loads(pickle.dumps(bar)).bar is None
