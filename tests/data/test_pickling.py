"""Every epoch iterator pickles mid-epoch, together with its stream."""
import pickle
from collections import OrderedDict

import numpy
import pytest

from blocks.data.datasets import H5PYDataset, IndexableDataset, IterableDataset
from blocks.data.schemes import (ConstantScheme, SequentialScheme,
                                 ShuffledExampleScheme, ShuffledScheme)
from blocks.data.streams import DataStream
from blocks.data.transformers import (Batch, Cache, Cast, Filter,
                                      FilterSources, Flatten, ForceFloatX,
                                      Mapping, Merge, MultiProcessing,
                                      Padding, Rename, ScaleAndShift,
                                      SortMapping, Unpack)
from blocks.data.transformers.sequences import NGrams, Window


def normalize(item):
    """Nested lists of plain values, to compare items of any kind."""
    if isinstance(item, dict):
        return {key: normalize(value) for key, value in item.items()}
    if isinstance(item, (tuple, list)) or (
            isinstance(item, numpy.ndarray) and item.dtype == object):
        return [normalize(value) for value in item]
    if isinstance(item, numpy.ndarray):
        return item.tolist()
    return item


def is_even(data):
    return data[-1] % 2 == 0


def add_length(data):
    return (len(data[0]),)


def last_value(example):
    return example[-1]


def shuffled(num_examples=10, batch_size=3, seed=1):
    features = numpy.arange(num_examples * 2, dtype='float32').reshape(-1, 2)
    dataset = IndexableDataset(OrderedDict([
        ('features', features), ('targets', numpy.arange(num_examples))]))
    return DataStream(dataset, iteration_scheme=ShuffledScheme(
        num_examples, batch_size, rng=numpy.random.RandomState(seed)))


def sentences():
    return IterableDataset({'words': [[1, 2, 3, 4], [5, 6], [7, 8, 9], [1],
                                      [2, 3]]}) \
        .get_example_stream()


def h5_stream(path, load_in_memory):
    dataset = H5PYDataset(path, which_sets=('train', 'test'),
                          load_in_memory=load_in_memory)
    return DataStream(dataset, iteration_scheme=ShuffledScheme(
        10, 3, rng=numpy.random.RandomState(2)))


FACTORIES = {
    'sequential': lambda _: DataStream(
        IndexableDataset(numpy.arange(7)),
        iteration_scheme=SequentialScheme(7, 2)),
    'shuffled': lambda _: shuffled(),
    'shuffled examples': lambda _: DataStream(
        IndexableDataset(numpy.arange(7)),
        iteration_scheme=ShuffledExampleScheme(7)),
    'iterable': lambda _: DataStream(IterableDataset(
        {'x': list(range(6)), 'y': numpy.arange(6)})),
    'hdf5 lazy': lambda path: h5_stream(path, False),
    'hdf5 in memory': lambda path: h5_stream(path, True),
    'scale and cast': lambda _: Cast(ScaleAndShift(
        shuffled(), 2, 1, which_sources=('features',)), 'float64',
        which_sources=('features',)),
    'flatten, force floatX': lambda _: ForceFloatX(Flatten(shuffled())),
    'mapping': lambda _: Mapping(Unpack(shuffled()), add_length,
                                 add_sources=('length',)),
    'sort mapping': lambda _: Mapping(shuffled(), SortMapping(last_value)),
    'filter': lambda _: Filter(Unpack(shuffled()), is_even),
    'batch of unpack': lambda _: Batch(Unpack(shuffled()),
                                       ConstantScheme(4)),
    'cache': lambda _: Cache(shuffled(), ConstantScheme(4)),
    'padding': lambda _: Padding(Batch(sentences(), ConstantScheme(2)),
                                 mask_dtype='int8'),
    'window': lambda _: Window(0, 2, 1, False, sentences()),
    'ngrams': lambda _: NGrams(2, sentences()),
    'merge': lambda _: Merge([shuffled(seed=1), shuffled(seed=2)],
                             ('a', 'b', 'c', 'd')),
    'rename, filter sources': lambda _: FilterSources(
        Rename(shuffled(), {'targets': 'labels'}), ('labels',)),
}


@pytest.mark.parametrize('as_dict', [False, True], ids=['tuples', 'dicts'])
@pytest.mark.parametrize('consumed', [0, 1, 2])
@pytest.mark.parametrize('kind', FACTORIES)
def test_epoch_iterator_pickles_mid_epoch(kind, consumed, as_dict, h5_path,
                                          floatX):
    stream = FACTORIES[kind](h5_path)
    iterator = stream.get_epoch_iterator(as_dict=as_dict)
    for _ in range(consumed):
        next(iterator)
    stream_copy, iterator_copy = pickle.loads(pickle.dumps(
        (stream, iterator)))
    remaining = normalize(list(iterator))
    assert remaining  # the epoch was not over
    stream.close()
    assert normalize(list(iterator_copy)) == remaining
    # The pair stays consistent: both streams go on with the same epochs.
    assert normalize(list(stream_copy.get_epoch_iterator())) == normalize(
        list(stream.get_epoch_iterator()))
    stream_copy.close()


def test_lazy_hdf5_pickle_reopens_the_file_by_path(h5_path):
    stream = h5_stream(h5_path, False)
    iterator = stream.get_epoch_iterator()
    next(iterator)
    state = pickle.dumps((stream, iterator))
    expected = normalize(list(iterator))
    stream.close()
    assert h5_path not in H5PYDataset._file_handles
    _, iterator_copy = pickle.loads(state)
    assert normalize(list(iterator_copy)) == expected


def test_multiprocessing_resumes_at_the_same_place():
    stream = MultiProcessing(shuffled(), max_store=2)
    try:
        epochs = [normalize(list(stream.get_epoch_iterator()))
                  for _ in range(2)]
        iterator = stream.get_epoch_iterator()
        next(iterator)
        next(iterator)
        stream_copy, iterator_copy = pickle.loads(pickle.dumps(
            (stream, iterator)))
        remaining = normalize(list(iterator))
        try:
            assert normalize(list(iterator_copy)) == remaining
            assert normalize(list(stream_copy.get_epoch_iterator())) == \
                normalize(list(stream.get_epoch_iterator()))
        finally:
            stream_copy.terminate()
    finally:
        stream.terminate()
    reference = shuffled()
    assert epochs == [normalize(list(reference.get_epoch_iterator()))
                      for _ in range(2)]
