"""Tests of blocks.data.transformers.sequences."""
import pytest

from blocks.data.datasets import IterableDataset
from blocks.data.schemes import ConstantScheme
from blocks.data.transformers import Batch
from blocks.data.transformers.sequences import NGrams, Window


def sequences(*seqs):
    return IterableDataset({'words': list(seqs)}).get_example_stream()


def test_window_not_overlapping():
    stream = Window(0, 2, 2, False, sequences([1, 2, 3, 4, 5]))
    assert stream.sources == ('words', 'targets')
    assert list(stream.get_epoch_iterator()) == [
        ([1, 2], [3, 4]), ([2, 3], [4, 5])]


def test_window_overlapping_with_offset_moves_to_next_sequence():
    stream = Window(1, 2, 2, True, sequences([1, 2, 3], [4, 5, 6, 7]),
                    target_source='next')
    assert stream.sources == ('words', 'next')
    assert list(stream.get_epoch_iterator()) == [
        ([1, 2], [2, 3]), ([4, 5], [5, 6]), ([5, 6], [6, 7])]


def test_window_negative_offset_starts_later():
    stream = Window(-1, 1, 1, True, sequences([1, 2, 3]))
    assert list(stream.get_epoch_iterator()) == [([2], [1]), ([3], [2])]


def test_window_skips_sequences_too_short():
    stream = Window(0, 3, 1, False, sequences([1, 2], [1, 2, 3, 4]))
    assert list(stream.get_epoch_iterator()) == [([1, 2, 3], [4])]


def test_window_restarts_each_epoch():
    stream = Window(0, 1, 1, False, sequences([1, 2, 3]))
    iterator = stream.get_epoch_iterator()
    next(iterator)
    assert len(list(stream.get_epoch_iterator())) == 2


def test_window_needs_one_source_of_examples():
    with pytest.raises(ValueError, match='expects exactly one source'):
        Window(0, 1, 1, False, IterableDataset(
            {'a': [[1]], 'b': [[1]]}).get_example_stream())
    with pytest.raises(ValueError, match='needs a stream of examples'):
        Window(0, 1, 1, False, Batch(sequences([1]), ConstantScheme(1)))


def test_window_rejects_requests():
    stream = Window(0, 1, 1, False, sequences([1, 2]))
    stream.get_epoch_iterator()
    with pytest.raises(ValueError, match='takes no request'):
        stream.get_data(1)


def test_ngrams_give_the_next_element():
    stream = NGrams(3, sequences([1, 2, 3, 4, 5]))
    assert list(stream.get_epoch_iterator()) == [
        ([1, 2, 3], 4), ([2, 3, 4], 5)]
