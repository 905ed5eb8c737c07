"""Tests of blocks.data.transformers."""
import logging
from collections import OrderedDict

import numpy
import pytest

from blocks.data.datasets import IndexableDataset, IterableDataset
from blocks.data.exceptions import AxisLabelsMismatchError
from blocks.data.schemes import (BatchScheme, ConstantScheme,
                                 SequentialExampleScheme,
                                 SequentialScheme, ShuffledScheme)
from blocks.data.streams import DataStream
from blocks.data.transformers import (AgnosticTransformer, Batch, Cache, Cast,
                                      ExpectsAxisLabels, Filter, FilterSources,
                                      Flatten, ForceFloatX, Mapping, Merge,
                                      Padding, Rename, ScaleAndShift,
                                      SortMapping, SourcewiseTransformer,
                                      Transformer, Unpack)


class SliceScheme(BatchScheme):
    """Requests slices: datasets answer them with views of their data."""

    def get_request_iterator(self):
        size = len(self.indices)
        return iter([slice(i, min(i + self.batch_size, size))
                     for i in range(0, size, self.batch_size)])


def example_stream(**sources):
    return DataStream(IterableDataset(OrderedDict(sources)))


def batch_stream(batch_size=2, **sources):
    dataset = IndexableDataset(OrderedDict(sources))
    return DataStream(dataset, iteration_scheme=SequentialScheme(
        dataset.num_examples, batch_size))


def labelled_batch_stream():
    dataset = IndexableDataset(
        OrderedDict([('x', numpy.arange(12.).reshape(4, 3)),
                     ('y', numpy.arange(4))]),
        axis_labels={'x': ('batch', 'feature'), 'y': ('batch',)})
    return DataStream(dataset, iteration_scheme=SequentialScheme(4, 2))


class TestTransformer:
    def test_direct_use_needs_transform_methods(self):
        stream = Transformer(example_stream(x=[1]), produces_examples=True)
        assert stream.sources == ('x',)
        with pytest.raises(NotImplementedError, match='transform examples'):
            next(stream.get_epoch_iterator())
        batches = Transformer(batch_stream(x=[1]), produces_examples=False)
        with pytest.raises(NotImplementedError, match='transform batches'):
            next(batches.get_epoch_iterator())

    def test_rejects_requests(self):
        stream = Transformer(example_stream(x=[1]), produces_examples=True)
        stream.get_epoch_iterator()
        with pytest.raises(ValueError, match='takes no request'):
            stream.get_data(3)

    def test_example_batch_mismatch(self):
        stream = Transformer(example_stream(x=[1]), produces_examples=False)
        with pytest.raises(NotImplementedError,
                           match='produces examples while the Transformer '
                           'transformer produces batches'):
            next(stream.get_epoch_iterator())

    def test_state_methods_delegate(self):
        calls = []

        class Child(DataStream):
            def reset(self):
                calls.append('reset')

            def close(self):
                calls.append('close')

            def next_epoch(self):
                calls.append('next_epoch')

        stream = Transformer(Child(IterableDataset([1])),
                             produces_examples=True)
        stream.reset(), stream.next_epoch(), stream.close()
        assert calls == ['reset', 'next_epoch', 'close']

    def test_sources_are_settable(self):
        stream = Transformer(example_stream(x=[1]), produces_examples=True)
        stream.sources = ('z',)
        assert stream.sources == ('z',)


class Negate(AgnosticTransformer):
    def transform_any(self, data):
        return tuple(-numpy.asarray(d) for d in data)


def test_agnostic_transformer_handles_examples_and_batches():
    examples = Negate(example_stream(x=[1, 2]), produces_examples=True)
    assert [x for x, in examples.get_epoch_iterator()] == [-1, -2]
    batches = Negate(batch_stream(x=numpy.arange(2)), produces_examples=False)
    assert next(batches.get_epoch_iterator())[0].tolist() == [0, -1]


class TestSourcewiseTransformer:
    def test_transforms_only_selected_sources(self):
        class Double(SourcewiseTransformer):
            def transform_source_example(self, example, name):
                return example * 2

        stream = Double(example_stream(x=[1], y=[1]), True,
                        which_sources=('y',))
        assert list(stream.get_epoch_iterator()) == [(1, 2)]

    def test_unknown_source_is_rejected(self):
        with pytest.raises(ValueError, match=r"names sources \['z'\] that the "
                           r"wrapped stream does not have; its sources are "
                           r"\('x',\)"):
            ScaleAndShift(example_stream(x=[1]), 1, 0, which_sources=('z',))

    def test_hooks_default_to_not_implemented(self):
        stream = SourcewiseTransformer(example_stream(x=[1]), True)
        with pytest.raises(NotImplementedError):
            next(stream.get_epoch_iterator())


class TestExpectsAxisLabels:
    def test_warns_on_missing_and_raises_on_mismatch_once(self, caplog):
        checker = ExpectsAxisLabels()
        with caplog.at_level(logging.WARNING):
            checker.verify_axis_labels(('batch',), None, 'x')
        assert 'could not verify' in caplog.text
        checker.verify_axis_labels(('batch',), ('other',), 'x')
        with pytest.raises(AxisLabelsMismatchError, match="source 'y'"):
            checker.verify_axis_labels(('batch',), ('other',), 'y')
        checker.verify_axis_labels(('batch',), ('batch',), 'z')


class TestMapping:
    def test_list_mapping_replaces_the_item(self):
        stream = Mapping(example_stream(x=[1, 2]), lambda d: (d[0] * 10,))
        assert list(stream.get_epoch_iterator()) == [(10,), (20,)]

    def test_add_sources_appends(self):
        stream = Mapping(example_stream(x=[1]), lambda d: (d[0] + 1,),
                         add_sources=('x1',))
        assert stream.sources == ('x', 'x1')
        assert list(stream.get_epoch_iterator(as_dict=True)) == [
            {'x': 1, 'x1': 2}]

    def test_dict_mapping(self):
        def swap(data):
            assert isinstance(data, OrderedDict)
            return {'x': data['y'], 'y': data['x']}

        stream = Mapping(example_stream(x=[1], y=[2]), swap,
                         mapping_accepts=dict)
        assert list(stream.get_epoch_iterator()) == [(2, 1)]
        added = Mapping(example_stream(x=[1]), lambda d: {'z': d['x'] * 3},
                        add_sources=('z',), mapping_accepts=dict)
        assert list(added.get_epoch_iterator()) == [(1, 3)]

    def test_mapping_accepts_must_be_list_or_dict(self):
        with pytest.raises(ValueError, match='must be `dict` or `list`'):
            Mapping(example_stream(x=[1]), len, mapping_accepts=tuple)


def test_sort_mapping_sorts_examples_of_a_batch():
    batch = (numpy.array([3, 1, 2]), ['c', 'a', 'b'])
    numbers, letters = SortMapping(lambda example: example[0])(batch)
    assert isinstance(numbers, numpy.ndarray) and numbers.tolist() == [1, 2, 3]
    assert letters == ['a', 'b', 'c']
    reverse = SortMapping(lambda example: example[0], reverse=True)(batch)
    assert reverse[1] == ['c', 'b', 'a']


class TestFilter:
    def test_keeps_matching_items_as_tuples_or_dicts(self):
        stream = Filter(example_stream(x=[1, 2, 3, 4]),
                        lambda data: data[0] % 2 == 0)
        assert list(stream.get_epoch_iterator()) == [(2,), (4,)]
        assert list(stream.get_epoch_iterator(as_dict=True)) == [
            {'x': 2}, {'x': 4}]

    def test_copies_axis_labels(self):
        stream = Filter(labelled_batch_stream(), bool)
        assert stream.axis_labels['x'] == ('batch', 'feature')


class TestCache:
    def test_pulls_one_child_batch_when_short(self):
        dataset = IndexableDataset({'x': numpy.arange(44)})
        child = DataStream(dataset, iteration_scheme=SequentialScheme(44, 11))
        stream = Cache(child, ConstantScheme(7))
        iterator = stream.get_epoch_iterator()
        sizes = []
        for _ in range(6):
            next(iterator)
            sizes.append(len(stream.cache[0]))
        assert sizes == [4, 8, 1, 5, 9, 2]

    def test_returns_the_rest_then_stops(self):
        child = batch_stream(batch_size=4, x=numpy.arange(10))
        batches = list(Cache(child, ConstantScheme(6)).get_epoch_iterator())
        # One child batch per short cache: results can be short mid-epoch.
        assert [b[0].tolist() for b in batches] == [
            [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
        short = list(Cache(batch_stream(batch_size=5, x=numpy.arange(10)),
                           ConstantScheme(3)).get_epoch_iterator())
        assert [len(b[0]) for b in short] == [3, 3, 3, 1]

    def test_empties_the_cache_each_epoch(self):
        stream = Cache(batch_stream(batch_size=4, x=numpy.arange(8)),
                       ConstantScheme(3))
        iterator = stream.get_epoch_iterator()
        next(iterator)
        assert next(stream.get_epoch_iterator())[0].tolist() == [0, 1, 2]

    def test_needs_a_batch_size_scheme_and_request(self):
        with pytest.raises(ValueError, match='must be a BatchSizeScheme'):
            Cache(batch_stream(x=[1, 2]), SequentialScheme(2, 1))
        stream = Cache(batch_stream(x=[1, 2]), ConstantScheme(1))
        stream.get_epoch_iterator()
        with pytest.raises(ValueError, match='needs a batch size'):
            stream.get_data(None)


class TestBatch:
    def test_groups_examples(self):
        stream = Batch(example_stream(x=[1, 2, 3], y='abc'), ConstantScheme(2))
        batches = list(stream.get_epoch_iterator())
        assert [b[0].tolist() for b in batches] == [[1, 2], [3]]
        assert batches[0][1].tolist() == ['a', 'b']
        assert not stream.produces_examples

    def test_accepts_index_list_requests(self):
        stream = Batch(example_stream(x=[1, 2, 3]), SequentialScheme(3, 2))
        assert [len(b[0]) for b in stream.get_epoch_iterator()] == [2, 1]

    @pytest.mark.parametrize('strictness, sizes', [(0, [2, 1]), (1, [2])])
    def test_strictness_for_the_last_batch(self, strictness, sizes):
        stream = Batch(example_stream(x=[1, 2, 3]), ConstantScheme(2),
                       strictness=strictness)
        assert [len(b[0]) for b in stream.get_epoch_iterator()] == sizes

    def test_strictness_two_raises_on_incomplete_batch(self):
        stream = Batch(example_stream(x=[1, 2, 3]), ConstantScheme(2),
                       strictness=2)
        iterator = stream.get_epoch_iterator()
        next(iterator)
        with pytest.raises(ValueError, match='incomplete batch of 1 examples'):
            next(iterator)

    def test_axis_labels_gain_a_batch_axis(self):
        dataset = IndexableDataset({'x': numpy.zeros((2, 3)), 'y': [0, 1]},
                                   axis_labels={'x': ('batch', 'feature'),
                                                'y': None})
        stream = Batch(dataset.get_example_stream(), ConstantScheme(2))
        assert stream.axis_labels == {'x': ('batch', 'feature'), 'y': None}

    def test_rejects_batch_streams_and_example_schemes(self):
        with pytest.raises(ValueError, match='needs a stream of examples.*'
                           'Unpack'):
            Batch(batch_stream(x=[1, 2]), ConstantScheme(2))
        with pytest.raises(ValueError, match='must request batches, but '
                           'SequentialExampleScheme requests single examples'):
            Batch(example_stream(x=[1]), SequentialExampleScheme(1))
        with pytest.raises(ValueError, match='strictness must be 0, 1 or 2'):
            Batch(example_stream(x=[1]), ConstantScheme(1), strictness=3)

    def test_needs_a_request(self):
        stream = Batch(example_stream(x=[1]), ConstantScheme(1))
        stream.get_epoch_iterator()
        with pytest.raises(ValueError, match='needs a batch size'):
            stream.get_data()


class TestUnpack:
    def test_splits_batches_into_examples(self):
        stream = Unpack(labelled_batch_stream())
        assert stream.produces_examples
        examples = list(stream.get_epoch_iterator())
        assert [y for _, y in examples] == [0, 1, 2, 3]
        assert examples[1][0].tolist() == [3., 4., 5.]
        assert stream.axis_labels == {'x': ('feature',), 'y': ()}

    def test_rejects_example_streams(self):
        with pytest.raises(ValueError, match='needs a stream of batches.*'
                           'Batch'):
            Unpack(example_stream(x=[1]))

    def test_restarts_cleanly_each_epoch(self):
        stream = Unpack(batch_stream(batch_size=3, x=numpy.arange(5)))
        iterator = stream.get_epoch_iterator()
        next(iterator)
        assert len(list(stream.get_epoch_iterator())) == 5


class TestPadding:
    def test_pads_and_adds_masks(self, floatX):
        stream = Padding(Batch(example_stream(
            x=[[1, 2, 3], [4]], y=[[1], [2, 3]]), ConstantScheme(2)),
            mask_sources=('x',))
        assert stream.sources == ('x', 'x_mask', 'y')
        x, x_mask, y = next(stream.get_epoch_iterator())
        assert x.tolist() == [[1, 2, 3], [4, 0, 0]]
        assert x_mask.tolist() == [[1, 1, 1], [1, 0, 0]]
        assert x_mask.dtype == numpy.dtype(floatX)
        assert [list(s) for s in y] == [[1], [2, 3]]

    def test_pads_multidimensional_examples(self):
        sequences = [numpy.ones((2, 3)), numpy.ones((1, 3))]
        stream = Padding(Batch(example_stream(x=sequences),
                               ConstantScheme(2)), mask_dtype='int8')
        x, mask = next(stream.get_epoch_iterator())
        assert x.shape == (2, 2, 3) and mask.dtype == numpy.int8
        assert x[1, 1].tolist() == [0, 0, 0]

    def test_rejects_different_trailing_shapes(self):
        stream = Padding(Batch(example_stream(
            x=[numpy.ones((2, 3)), numpy.ones((2, 4))]), ConstantScheme(2)),
            mask_dtype='int8')
        with pytest.raises(ValueError,
                           match='All dimensions except length must be equal'):
            next(stream.get_epoch_iterator())

    def test_rejects_example_streams_and_unknown_sources(self):
        with pytest.raises(ValueError, match='needs a stream of batches'):
            Padding(example_stream(x=[[1]]))
        with pytest.raises(ValueError, match="mask_sources names sources"):
            Padding(batch_stream(x=[[1], [2]]), mask_sources=('z',),
                    mask_dtype='int8')


class TestMerge:
    def test_concatenates_sources(self):
        merged = Merge([example_stream(a=[1, 2]),
                        example_stream(b=[3, 4], c=[5, 6])],
                       ('a', 'b', 'c'))
        assert merged.produces_examples
        assert list(merged.get_epoch_iterator(as_dict=True))[1] == {
            'a': 2, 'b': 4, 'c': 6}

    def test_rejects_mixed_kinds_and_wrong_source_count(self):
        with pytest.raises(ValueError, match='same type of output'):
            Merge([example_stream(a=[1]), batch_stream(b=[1])], ('a', 'b'))
        with pytest.raises(ValueError, match='wrong number of sources given'):
            Merge([example_stream(a=[1])], ('a', 'b'))

    def test_rejects_requests(self):
        merged = Merge([example_stream(a=[1])], ('a',))
        merged.get_epoch_iterator()
        with pytest.raises(ValueError, match='takes no request'):
            merged.get_data(1)

    def test_state_methods_reach_every_child(self):
        calls = []

        class Recording(IterableDataset):
            def next_epoch(self, state):
                calls.append(('next_epoch', self.sources[0]))
                return super().next_epoch(state)

            def close(self, state):
                calls.append(('close', self.sources[0]))

        merged = Merge([DataStream(Recording({'a': [1, 2]})),
                        DataStream(Recording({'b': [3, 4]}))], ('a', 'b'))
        iterator = merged.get_epoch_iterator()
        assert next(iterator) == (1, 3)
        merged.reset()  # both children start the epoch over
        assert list(merged.get_epoch_iterator()) == [(1, 3), (2, 4)]
        calls.clear()
        merged.next_epoch()
        assert sorted(calls) == [('close', 'a'), ('close', 'b'),
                                 ('next_epoch', 'a'), ('next_epoch', 'b')]
        calls.clear()
        merged.close()
        assert sorted(calls) == [('close', 'a'), ('close', 'b')]


class TestRename:
    def test_renames_sources_and_labels(self):
        stream = Rename(labelled_batch_stream(), {'x': 'features'})
        assert stream.sources == ('features', 'y')
        assert set(stream.axis_labels) == {'features', 'y'}
        assert set(next(stream.get_epoch_iterator(as_dict=True))) == {
            'features', 'y'}

    def test_swapping_names_is_allowed(self):
        stream = Rename(example_stream(x=[1], y=[2]), {'x': 'y', 'y': 'x'})
        assert stream.sources == ('y', 'x')

    def test_conflicts_are_key_errors(self):
        with pytest.raises(KeyError, match='same new source name'):
            Rename(example_stream(x=[1], y=[2]), {'x': 'z', 'y': 'z'})
        with pytest.raises(KeyError, match="would create two sources named"):
            Rename(example_stream(x=[1], y=[2]), {'x': 'y'})

    def test_missing_source_raise_warn_ignore(self, caplog):
        stream = example_stream(x=[1])
        with pytest.raises(KeyError, match="does not provide a source 'q'"):
            Rename(stream, {'q': 'r'})
        with caplog.at_level(logging.DEBUG):
            Rename(stream, {'q': 'r'}, on_non_existent='warn')
            Rename(stream, {'q': 's'}, on_non_existent='ignore')
        assert [(r.levelno, r.getMessage()[:30]) for r in caplog.records] == [
            (logging.WARNING, "Renaming source 'q' to 'r': st"),
            (logging.DEBUG, "Renaming source 'q' to 's': st")]

    def test_on_non_existent_must_be_known(self):
        with pytest.raises(ValueError, match="one of 'raise', 'ignore', "):
            Rename(example_stream(x=[1]), {}, on_non_existent='skip')


class TestFilterSources:
    def test_keeps_child_order_and_returns_lists(self):
        stream = FilterSources(example_stream(x=[1], y=[2], z=[3]),
                               ('z', 'x'))
        assert stream.sources == ('x', 'z')
        assert list(stream.get_epoch_iterator()) == [[1, 3]]

    def test_filters_labels(self):
        stream = FilterSources(labelled_batch_stream(), ('y',))
        assert stream.axis_labels == {'y': ('batch',)}

    def test_unknown_sources_are_rejected(self):
        with pytest.raises(ValueError, match=r"contained in data_stream.sour"
                           r"ces: \['w'\]"):
            FilterSources(example_stream(x=[1]), ('w',))


class TestFlatten:
    def test_flattens_batches_and_labels(self):
        dataset = IndexableDataset(
            {'x': numpy.arange(24).reshape(2, 3, 4), 'y': numpy.arange(2)},
            axis_labels={'x': ('batch', 'a', 'b'), 'y': None})
        batches = Flatten(DataStream(dataset,
                                     iteration_scheme=SequentialScheme(2, 2)))
        x, y = next(batches.get_epoch_iterator())
        assert x.shape == (2, 12)
        assert batches.axis_labels == {'x': ('batch', 'feature'), 'y': None}

    def test_flattens_examples(self):
        dataset = IndexableDataset(
            {'x': numpy.arange(24).reshape(2, 3, 4)},
            axis_labels={'x': ('batch', 'a', 'b')})
        stream = Flatten(dataset.get_example_stream())
        assert next(stream.get_epoch_iterator())[0].shape == (12,)
        assert stream.axis_labels == {'x': ('feature',)}


class TestScaleAndShift:
    @pytest.mark.parametrize('dtype, scale, shift', [
        ('uint8', 1 / 255., 0), ('float32', 0.5, -1.), ('int64', 2, 1),
        ('float32', 0.5, numpy.float64(1)), ('float32', numpy.float64(2), 1),
        ('float16', 3., 0.5), ('float32', numpy.array([1., 2.]), 0)])
    def test_matches_numpy_arithmetic(self, dtype, scale, shift):
        data = numpy.arange(12, dtype=dtype).reshape(6, 2)
        scheme = ShuffledScheme(6, 4, rng=numpy.random.RandomState(5))
        requests = ShuffledScheme(
            6, 4, rng=numpy.random.RandomState(5)).get_request_iterator()
        stream = ScaleAndShift(DataStream(IndexableDataset({'x': data}),
                                          iteration_scheme=scheme),
                               scale, shift)
        for (batch,), request in zip(stream.get_epoch_iterator(), requests,
                                     strict=True):
            expected = numpy.asarray(data[request]) * scale + shift
            assert batch.dtype == expected.dtype
            assert (batch == expected).all()

    @pytest.mark.parametrize('scheme', [
        SequentialScheme(6, 4), SequentialExampleScheme(6), SliceScheme(6, 4)],
        ids=['lists', 'examples', 'slices'])
    def test_never_modifies_the_dataset(self, scheme):
        data = numpy.arange(6, dtype='float32')
        stream = ScaleAndShift(DataStream(IndexableDataset({'x': data}),
                                          iteration_scheme=scheme), 2, 1)
        for _ in range(2):
            assert [list(numpy.atleast_1d(x)) for x, in
                    stream.get_epoch_iterator()][0][0] == 1
        assert data.tolist() == list(range(6))

    def test_works_in_place_on_fresh_batches(self):
        data = numpy.arange(8, dtype='float32').reshape(4, 2)
        child = DataStream(IndexableDataset({'x': data}),
                           iteration_scheme=SequentialScheme(4, 2))
        produced = []
        get_data = child.get_data
        child.get_data = lambda request: produced.append(
            get_data(request)) or produced[-1]
        stream = ScaleAndShift(child, 2, 1)
        batch, = next(stream.get_epoch_iterator())
        assert batch is produced[0][0]
        assert batch.tolist() == [[1, 3], [5, 7]]
        assert stream._fresh_output

    def test_changing_scale_and_shift_takes_effect(self):
        stream = ScaleAndShift(batch_stream(x=numpy.arange(2.)), 2, 0)
        assert next(stream.get_epoch_iterator())[0].tolist() == [0., 2.]
        stream.scale, stream.shift = numpy.float32(3), 1
        batch, = next(stream.get_epoch_iterator())
        assert batch.tolist() == [1., 4.] and batch.dtype == numpy.float64
        stream.shift = numpy.ones(2)
        assert next(stream.get_epoch_iterator())[0].tolist() == [1., 4.]

    def test_scales_selected_sources_of_examples(self):
        stream = ScaleAndShift(example_stream(x=[1, 2], y=[1, 2]), 10, 1,
                               which_sources=('y',))
        assert list(stream.get_epoch_iterator()) == [(1, 11), (2, 21)]

    def test_copies_axis_labels(self):
        stream = ScaleAndShift(labelled_batch_stream(), 1, 0)
        assert stream.axis_labels['x'] == ('batch', 'feature')


class TestCast:
    def test_casts_selected_sources(self):
        stream = Cast(batch_stream(x=numpy.arange(2), y=numpy.arange(2)),
                      'float16', which_sources=('x',))
        x, y = next(stream.get_epoch_iterator())
        assert x.dtype == numpy.float16 and y.dtype == numpy.int64
        assert stream.dtype == 'float16'
        stream.dtype = 'int8'
        assert next(stream.get_epoch_iterator())[0].dtype == numpy.int8

    def test_floatX_is_read_at_construction(self, floatX, monkeypatch):
        stream = Cast(batch_stream(x=numpy.arange(2)), 'floatX')
        monkeypatch.setenv('FUEL_FLOATX', 'float64')
        assert next(stream.get_epoch_iterator())[0].dtype == floatX


def test_force_floatx_casts_only_other_floats(floatX):
    stream = ForceFloatX(example_stream(
        a=[numpy.ones(2, 'float64')], b=[numpy.ones(2, 'int32')],
        c=[numpy.ones(2, floatX)], d=[1.5]))
    a, b, c, d = next(stream.get_epoch_iterator())
    assert a.dtype == floatX and b.dtype == numpy.int32
    assert c.dtype == floatX and d == 1.5
