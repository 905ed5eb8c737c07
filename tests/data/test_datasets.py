"""Tests of blocks.data.datasets (base, toy, digits)."""
import builtins
import pickle
from collections import OrderedDict

import numpy
import pytest

from blocks.data.datasets import Dataset, IndexableDataset, IterableDataset
from blocks.data.datasets import digits as digits_module
from blocks.data.datasets.digits import Digits
from blocks.data.datasets.toy import Spiral, SwissRoll
from blocks.data.schemes import SequentialExampleScheme, SequentialScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Mapping


class Pairs(Dataset):
    provides_sources = ('a', 'b')

    def get_data(self, state=None, request=None):
        return self.filter_sources((request, -request))


def double_first(data):
    return (data[0] * 2,) + tuple(data[1:])


class TestDataset:
    def test_needs_provides_sources(self):
        class NoSources(Dataset):
            def get_data(self, state=None, request=None):
                pass

        with pytest.raises(ValueError, match='does not have `provides_sour'):
            NoSources()

    @pytest.mark.parametrize('sources', [(), ('c',), ('a', 'c')])
    def test_rejects_sources_it_cannot_provide(self, sources):
        with pytest.raises(ValueError,
                           match='unable to provide requested sources'):
            Pairs(sources=sources)

    def test_sources_default_and_selection(self):
        assert Pairs().sources == ('a', 'b')
        dataset = Pairs(sources=('b',))
        assert dataset.sources == ('b',)
        assert dataset.get_data(request=3) == (-3,)

    def test_state_protocol_defaults(self):
        dataset = Pairs()
        assert dataset.open() is None
        assert dataset.reset(None) is None
        assert dataset.next_epoch(None) is None
        assert dataset.close(None) is None

    def test_example_iteration_scheme_unset_is_attribute_error(self):
        with pytest.raises(AttributeError, match='example iteration scheme'):
            Pairs().example_iteration_scheme

    def test_example_stream_uses_the_example_scheme(self):
        dataset = Pairs()
        dataset.example_iteration_scheme = SequentialExampleScheme(2)
        stream = dataset.get_example_stream()
        assert list(stream.get_epoch_iterator()) == [(0, 0), (1, -1)]

    def test_apply_default_transformers(self):
        dataset = Pairs()
        dataset.example_iteration_scheme = SequentialExampleScheme(2)
        dataset.default_transformers = ((Mapping, [double_first], {}),)
        stream = dataset.apply_default_transformers(
            dataset.get_example_stream())
        assert isinstance(stream, Mapping)
        assert list(stream.get_epoch_iterator()) == [(0, 0), (2, -1)]


class TestIterableDataset:
    def test_dict_sources_in_order(self):
        dataset = IterableDataset(OrderedDict([('x', [1, 2]), ('y', 'ab')]))
        assert dataset.sources == ('x', 'y')
        assert dataset.num_examples == 2
        state = dataset.open()
        assert dataset.get_data(state) == (1, 'a')

    def test_single_iterable_is_source_data(self):
        dataset = IterableDataset(range(3))
        assert dataset.sources == ('data',)
        assert dataset.example_iteration_scheme is None
        stream = dataset.get_example_stream()
        assert [x for x, in stream.get_epoch_iterator()] == [0, 1, 2]

    def test_selected_sources(self):
        dataset = IterableDataset({'x': [1], 'y': [2]}, sources=('y',))
        assert dataset.iterables == [[2]]

    def test_unsized_iterable_has_nan_examples(self):
        assert numpy.isnan(IterableDataset(iter([1, 2])).num_examples)

    @pytest.mark.parametrize('iterables', [5, {'x': 5}])
    def test_rejects_non_iterables(self, iterables):
        with pytest.raises(ValueError, match='iterable'):
            IterableDataset(iterables)

    def test_rejects_different_lengths(self):
        with pytest.raises(ValueError, match='iterables are of different '
                           r'length \(\[1, 2\]\)'):
            IterableDataset({'x': [1], 'y': [1, 2]})

    @pytest.mark.parametrize('state, request_', [(None, None), ('s', 0)])
    def test_get_data_needs_state_and_no_request(self, state, request_):
        dataset = IterableDataset([1])
        if state:
            state = dataset.open()
        with pytest.raises(ValueError, match='needs the state'):
            dataset.get_data(state, request_)


class TestIndexableDataset:
    def test_dict_sources_and_attributes(self):
        dataset = IndexableDataset(OrderedDict([
            ('features', numpy.arange(6).reshape(3, 2)),
            ('targets', [0, 1, 0])]))
        assert dataset.sources == ('features', 'targets')
        assert dataset.num_examples == 3
        assert dataset.targets == [0, 1, 0]
        features, targets = dataset.get_data(request=[2, 0])
        assert features.tolist() == [[4, 5], [0, 1]]
        assert targets == [0, 0]
        assert isinstance(dataset.example_iteration_scheme,
                          SequentialExampleScheme)

    def test_unknown_attribute_is_attribute_error(self):
        with pytest.raises(AttributeError, match='nothing'):
            IndexableDataset({'x': [1]}).nothing

    def test_single_indexable_is_source_data(self):
        dataset = IndexableDataset(numpy.arange(4))
        assert dataset.sources == ('data',)
        assert dataset.get_data(request=slice(1, 3))[0].tolist() == [1, 2]
        assert dataset.get_data(request=2) == (2,)

    def test_rejects_sources_of_different_lengths(self):
        with pytest.raises(ValueError, match=r"sources have different lengths"
                           r" \(\{'x': 2, 'y': 3\}\).*one entry per example"):
            IndexableDataset({'x': [1, 2], 'y': [1, 2, 3]})

    def test_start_and_stop_select_examples(self):
        dataset = IndexableDataset({'x': numpy.arange(10)}, start=2, stop=5)
        assert dataset.num_examples == 3
        assert dataset.get_data(request=[0, 2])[0].tolist() == [2, 4]
        single = IndexableDataset(list(range(10)), start=8)
        assert single.num_examples == 2

    @pytest.mark.parametrize('state, request_', [(None, None), (1, [0])])
    def test_get_data_needs_request_and_no_state(self, state, request_):
        with pytest.raises(ValueError, match='needs a request'):
            IndexableDataset([1]).get_data(state, request_)

    def test_pickles(self):
        dataset = pickle.loads(pickle.dumps(IndexableDataset({'x': [1, 2]})))
        assert dataset.x == [1, 2]

    def test_list_source_with_batch_request(self):
        dataset = IndexableDataset({'words': ['a', 'b', 'c']})
        assert dataset.get_data(request=[2, 0]) == (['c', 'a'],)


class TestToy:
    def test_spiral_sources_shapes_and_determinism(self):
        spiral = Spiral(num_examples=50, classes=3, noise=0.1)
        assert spiral.sources == ('features', 'position', 'label')
        assert spiral.features.shape == (50, 2)
        assert spiral.features.dtype == numpy.float32
        assert spiral.position.shape == (50,)
        assert set(spiral.label) <= {0, 1, 2}
        assert (Spiral(num_examples=50, classes=3, noise=0.1).features
                == spiral.features).all()
        assert not (Spiral(num_examples=50, seed=2).features
                    == Spiral(num_examples=50).features).all()

    def test_spiral_points_lie_on_the_arm_without_noise(self):
        spiral = Spiral(num_examples=20)
        radius = numpy.hypot(*spiral.features.T)
        assert numpy.allclose(radius, (2 * spiral.position + 1) / 3,
                              atol=1e-6)

    def test_swiss_roll(self):
        roll = SwissRoll(num_examples=30)
        assert roll.features.shape == (30, 3)
        assert roll.position.dtype == numpy.float32
        assert (roll.features[:, 2] == roll.position[:, 1]).all()


class TestDigits:
    def test_splits_are_fixed_and_disjoint(self):
        sizes = {s: Digits((s,)).num_examples
                 for s in ('train', 'valid', 'test')}
        assert sizes == {'train': 1200, 'valid': 300, 'test': 297}
        train, test = Digits(('train',)), Digits(('test',))
        both = Digits(('train', 'test'))
        assert both.num_examples == 1497
        assert (both.features[1200:] == test.features).all()
        assert (Digits(('train',)).features == train.features).all()

    def test_layout_like_mnist(self):
        digits = Digits(('valid',))
        assert digits.features.shape == (300, 1, 8, 8)
        assert digits.features.dtype == numpy.float32
        assert 0 <= digits.features.min() and digits.features.max() <= 1
        assert digits.targets.shape == (300, 1)
        assert digits.targets.dtype == numpy.uint8
        assert digits.axis_labels['features'] == (
            'batch', 'channel', 'height', 'width')

    def test_streams_batches(self):
        digits = Digits(('test',), sources=('targets',))
        stream = DataStream(digits,
                            iteration_scheme=SequentialScheme(297, 100))
        assert [len(t) for t, in stream.get_epoch_iterator()] == [100, 100, 97]

    @pytest.mark.parametrize('which_sets', ['train', ('bogus',), ()])
    def test_rejects_bad_splits(self, which_sets):
        with pytest.raises(ValueError, match='which_sets|no split'):
            Digits(which_sets)

    def test_missing_scikit_learn_names_the_extra(self, monkeypatch):
        real_import = builtins.__import__

        def fake_import(name, *args, **kwargs):
            if name.startswith('sklearn'):
                raise ImportError('No module named sklearn')
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, '__import__', fake_import)
        digits_module._load_shuffled.cache_clear()
        try:
            with pytest.raises(ImportError, match=r'blocks\[digits\]'):
                Digits(('train',))
        finally:
            monkeypatch.undo()
            digits_module._load_shuffled.cache_clear()
