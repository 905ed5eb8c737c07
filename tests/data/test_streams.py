"""Tests of blocks.data.streams and blocks.data.iterator."""
import numpy
import pytest

from blocks.data.datasets import (H5PYDataset, IndexableDataset,
                                  IterableDataset)
from blocks.data.iterator import DataIterator
from blocks.data.schemes import (ConstantScheme, SequentialExampleScheme,
                                 SequentialScheme, ShuffledScheme)
from blocks.data.streams import (AbstractDataStream, DataStream,
                                 iterate_epochs_from)
from blocks.data.transformers import Batch, Mapping, ScaleAndShift


class Plain(AbstractDataStream):
    def get_epoch_iterator(self, **kwargs):
        return super().get_epoch_iterator(**kwargs)


def add_one(data):
    return (data[0] + 1,)


class TestAbstractDataStream:
    def test_produces_examples_follows_the_scheme(self):
        assert Plain(iteration_scheme=SequentialExampleScheme(2)) \
            .produces_examples
        assert not Plain(iteration_scheme=SequentialScheme(2, 1)) \
            .produces_examples

    def test_produces_examples_without_scheme_must_be_set(self):
        stream = Plain()
        with pytest.raises(ValueError, match='cannot infer type of stream.*'
                           'set produces_examples'):
            stream.produces_examples
        stream.produces_examples = False
        assert not stream.produces_examples

    def test_produces_examples_cannot_be_set_with_a_scheme(self):
        stream = Plain(iteration_scheme=SequentialScheme(2, 1))
        with pytest.raises(ValueError, match='cannot set produces_examples'):
            stream.produces_examples = True

    def test_defaults(self):
        stream = Plain()
        with pytest.raises(NotImplementedError):
            stream.get_data()
        assert stream.reset() is None and stream.close() is None
        assert stream.next_epoch() is None

    def test_iterate_epochs_is_endless(self):
        stream = IterableDataset([1, 2]).get_example_stream()
        epochs = stream.iterate_epochs()
        assert [list(next(epochs)) for _ in range(3)] == [[(1,), (2,)]] * 3


class TestDataStream:
    def test_batches_and_dicts(self):
        dataset = IndexableDataset({'x': numpy.arange(5), 'y': list('abcde')})
        stream = DataStream(dataset, iteration_scheme=SequentialScheme(5, 2))
        assert not stream.produces_examples
        batches = list(stream.get_epoch_iterator(as_dict=True))
        assert [b['y'] for b in batches] == [['a', 'b'], ['c', 'd'], ['e']]
        assert batches[2]['x'].tolist() == [4]

    def test_without_scheme_gives_examples(self):
        stream = DataStream(IterableDataset([3, 4]))
        assert stream.produces_examples
        assert list(stream.get_epoch_iterator()) == [(3,), (4,)]
        assert list(stream.get_epoch_iterator()) == [(3,), (4,)]

    def test_sources_default_to_the_dataset_and_can_be_set(self):
        stream = DataStream(IterableDataset({'a': [1], 'b': [2]}))
        assert stream.sources == ('a', 'b')
        stream.sources = ('b', 'a')
        assert stream.sources == ('b', 'a')

    def test_axis_labels_copied_and_batch_dropped_for_examples(self):
        labels = {'x': ('batch', 'feature'), 'y': None}
        dataset = IndexableDataset({'x': numpy.zeros((2, 3)), 'y': [0, 1]},
                                   axis_labels=labels)
        examples = DataStream(dataset,
                              iteration_scheme=SequentialExampleScheme(2))
        assert examples.axis_labels == {'x': ('feature',), 'y': None}
        batches = DataStream(dataset, iteration_scheme=SequentialScheme(2, 1))
        assert batches.axis_labels == labels
        assert batches.axis_labels is not labels
        assert dataset.axis_labels == {'x': ('batch', 'feature'), 'y': None}

    def test_epoch_iterator_moves_to_next_epoch_unless_fresh(self):
        class Counting(IterableDataset):
            epochs = 0

            def next_epoch(self, state):
                Counting.epochs += 1
                return super().next_epoch(state)

        stream = DataStream(Counting([1]))
        stream.get_epoch_iterator()
        assert Counting.epochs == 0
        stream.get_epoch_iterator()
        assert Counting.epochs == 1
        stream.reset()
        stream.get_epoch_iterator()
        assert Counting.epochs == 1

    def test_iterable_dataset_with_its_own_get_data_answers_a_scheme(self):
        # Data-driven epochs: the dataset's open/next_epoch decide where an
        # epoch ends, get_data answers the scheme's batch sizes.
        class Chunks(IterableDataset):
            def open(self):
                return iter(self.iterables[0])

            def get_data(self, state=None, request=None):
                batch = [value for _, value in zip(range(request), state)]
                if not batch:
                    raise StopIteration
                return (numpy.array(batch),)

        stream = DataStream(Chunks(range(5)),
                            iteration_scheme=ConstantScheme(2))
        assert not stream.produces_examples
        for _ in range(2):
            assert [batch.tolist() for batch, in stream.get_epoch_iterator()
                    ] == [[0, 1], [2, 3], [4]]
        examples = DataStream(Chunks(range(2)),
                              iteration_scheme=SequentialExampleScheme(2))
        assert examples.produces_examples

    def test_iterable_dataset_refuses_a_scheme_it_would_ignore(self):
        with pytest.raises(ValueError, match="takes no requests"):
            DataStream(IterableDataset([1, 2]),
                       iteration_scheme=SequentialExampleScheme(2))

    def test_default_stream_applies_default_transformers(self):
        dataset = IndexableDataset({'x': numpy.arange(3)})
        dataset.default_transformers = ((Mapping, [add_one], {}),)
        stream = DataStream.default_stream(
            dataset, iteration_scheme=SequentialScheme(3, 3))
        assert isinstance(stream, Mapping)
        assert next(stream.get_epoch_iterator())[0].tolist() == [1, 2, 3]

    def test_close_and_reset_replace_the_state(self):
        stream = DataStream(IterableDataset([1, 2]))
        iterator = stream.get_epoch_iterator()
        next(iterator)
        stream.reset()
        assert list(stream.get_epoch_iterator()) == [(1,), (2,)]
        stream.close()


def test_data_iterator_without_requests():
    stream = DataStream(IterableDataset({'a': [1, 2]}))
    iterator = DataIterator(stream, as_dict=True)
    assert iter(iterator) is iterator
    assert list(iterator) == [{'a': 1}, {'a': 2}]


def test_data_iterator_stops_with_the_requests():
    stream = DataStream(IndexableDataset([5, 6, 7]))
    iterator = DataIterator(stream, iter([[2], [0]]))
    assert list(iterator) == [([7],), ([5],)]


def interleave(first, second):
    """Alternate two iterators until both are exhausted."""
    first_items, second_items = [], []
    for item_1, item_2 in zip(first, second):
        first_items.append(item_1)
        second_items.append(item_2)
    first_items.extend(first)
    second_items.extend(second)
    return first_items, second_items


def flat(batches):
    return numpy.concatenate([numpy.ravel(b[0]) for b in batches]).tolist()


@pytest.mark.parametrize('make_stream', [
    lambda: DataStream(IterableDataset(range(7))),
    lambda: DataStream(IndexableDataset(numpy.arange(7)),
                       iteration_scheme=ShuffledScheme(7, 2)),
    lambda: Batch(DataStream(IterableDataset(range(7))), ConstantScheme(3)),
    lambda: ScaleAndShift(DataStream(IndexableDataset(numpy.arange(7.)),
                                     iteration_scheme=SequentialScheme(7, 3)),
                          1, 0),
], ids=['iterable', 'shuffled', 'batch', 'transformer'])
def test_two_live_iterators_give_independent_full_epochs(make_stream):
    stream = make_stream()
    first, second = interleave(stream.get_epoch_iterator(),
                               stream.get_epoch_iterator())
    assert sorted(flat(first)) == sorted(flat(second)) == list(range(7))


def test_iterate_epochs_from_skips_to_a_position():
    stream = DataStream(IndexableDataset(numpy.arange(5)),
                        iteration_scheme=ShuffledScheme(5, 2))
    reference = DataStream(IndexableDataset(numpy.arange(5)),
                           iteration_scheme=ShuffledScheme(5, 2))
    epochs = [flat(reference.get_epoch_iterator()) for _ in range(3)]
    resumed = iterate_epochs_from(stream, epochs_done=1, batches_done=1)
    assert flat(next(resumed)) == epochs[1][2:]
    assert flat(next(resumed)) == epochs[2]


def test_iterate_epochs_from_rejects_a_position_past_the_epoch():
    stream = IterableDataset([1, 2]).get_example_stream()
    with pytest.raises(ValueError, match='the epoch has only 2'):
        next(iterate_epochs_from(stream, batches_done=3))


@pytest.mark.parametrize('make_dataset', [
    lambda path: IndexableDataset(numpy.arange(4)),
    lambda path: H5PYDataset(path, which_sets=('train',))],
    ids=['indexable', 'hdf5'])
def test_batch_size_requests_to_an_indexed_dataset_are_rejected(
        make_dataset, h5_path):
    with pytest.raises(ValueError, match='ConstantScheme requests batch '
                       'sizes, but .* takes example indices.*SequentialSch'):
        DataStream(make_dataset(h5_path),
                   iteration_scheme=ConstantScheme(2))


def test_requests_to_an_iterable_dataset_are_rejected():
    with pytest.raises(ValueError, match='takes no requests, but the stream '
                       'has a SequentialScheme; drop the iteration scheme'):
        DataStream(IterableDataset([1, 2]),
                   iteration_scheme=SequentialScheme(2, 1))
