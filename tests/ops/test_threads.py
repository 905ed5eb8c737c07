"""The Ops' NumPy work split over threads: same numbers, every row once."""
import threading

import numpy
import pytest

from blocks.ops import (
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    MaxPoolGrad,
    Pool,
    _threads,
)
from tests.ops.test_conv import (
    _run,
    loop_conv,
    loop_grad_inputs,
    loop_grad_weights,
)
from tests.ops.test_pool import loop_pool, loop_pool_grad

RNG = numpy.random.RandomState(4)


@pytest.fixture
def three_threads(monkeypatch):
    """Split everything, however small, in three."""
    monkeypatch.setattr(_threads, 'threads', lambda: 3)
    monkeypatch.setattr(_threads, 'MIN_ELEMENTS', 1)


def test_split_covers_each_row_once_on_several_threads(three_threads):
    calls = []

    def record(start, stop):
        calls.append((start, stop, threading.get_ident()))

    _threads.split(record, 10, 10)
    assert sorted((start, stop) for start, stop, _ in calls) == [
        (0, 3), (3, 6), (6, 10)]
    assert len({ident for *_, ident in calls}) > 1
    calls.clear()
    _threads.split(record, 2, 10)  # no more parts than rows
    assert sorted((start, stop) for start, stop, _ in calls) == [
        (0, 1), (1, 2)]


def test_split_leaves_small_work_whole(monkeypatch):
    monkeypatch.setattr(_threads, 'threads', lambda: 4)
    calls = []
    _threads.split(lambda *bounds: calls.append(bounds), 8,
                   _threads.MIN_ELEMENTS)
    assert calls == [(0, 8)]


def test_split_raises_the_errors_of_its_parts(three_threads):
    def fail(start, stop):
        if start > 0:
            raise RuntimeError(f"rows {start}:{stop}")

    with pytest.raises(RuntimeError, match='rows'):
        _threads.split(fail, 9, 9)


def test_split_starts_new_threads_in_a_forked_process(three_threads,
                                                     monkeypatch):
    # A forked child inherits the executor but none of its threads: it
    # would wait forever on tasks that no thread runs.
    _threads.split(lambda start, stop: None, 6, 6)
    parent_workers = _threads._executor
    monkeypatch.setattr(_threads.os, 'getpid', lambda: -1)
    rows = numpy.zeros(6)

    def fill(start, stop):
        rows[start:stop] = 1

    _threads.split(fill, 6, 6)
    assert rows.sum() == 6 and _threads._executor is not parent_workers


@pytest.mark.parametrize('image', [(7, 6), (4, 37)])  # both layouts
def test_conv_ops_split_match_loops(three_threads, image):
    x, w = RNG.randn(5, 3, *image), RNG.randn(4, 3, 3, 2)
    params = {'border_mode': (1, 2), 'subsample': (1, 1),
              'filter_flip': True, 'filter_dilation': (1, 1)}
    args = ((1, 2), (1, 1), True, (1, 1))
    out, _ = _run(Conv2d(**params), x, w)
    gy = RNG.randn(*out.shape)
    gx, _ = _run(Conv2dGradInputs(**params), w, gy, numpy.array(image))
    gw, _ = _run(Conv2dGradWeights(**params), x, gy, numpy.array((3, 2)))
    for got, expected in ((out, loop_conv(x, w, *args)),
                          (gx, loop_grad_inputs(w, gy, x.shape, *args)),
                          (gw, loop_grad_weights(x, gy, w.shape, *args))):
        numpy.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('shape', [(5, 2, 6, 7), (5, 6, 6), (6, 7)])
def test_max_pooling_split_matches_loops(three_threads, shape):
    x = RNG.randn(*shape)
    pooled, _ = _run(Pool((2, 3)), x)
    gz = RNG.randn(*pooled.shape)
    grad, _ = _run(MaxPoolGrad((2, 3)), x, pooled, gz)
    args = ((2, 3), (2, 3), (0, 0), True, 'max')
    numpy.testing.assert_array_equal(pooled, loop_pool(x, *args))
    numpy.testing.assert_array_equal(grad, loop_pool_grad(x, gz, *args))
