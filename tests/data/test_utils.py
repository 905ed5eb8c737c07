"""Tests of blocks.data.utils."""
import os
import pickle
import stat

import numpy
import pytest

from blocks.data import config
from blocks.data.utils import (Subset, buffer_, cache_file,
                               do_not_pickle_attributes, find_in_data_path,
                               iterable_fancy_indexing, remember_cwd)
from blocks.serialization.atomic import FILE_MODE


class TestSubset:
    def test_contiguous_list_becomes_a_slice(self):
        assert Subset([3, 1, 2, 2], 5).list_or_slice == slice(1, 4)
        assert Subset([0, 2], 5).list_or_slice == [0, 2]

    @pytest.mark.parametrize('list_or_slice', [
        slice(0, 3, 2), slice(-1, 3), slice(4, 2), slice(0, 6), slice(5, 6),
        [-1, 2], [0, 5]])
    def test_invalid_subsets_are_rejected(self, list_or_slice):
        with pytest.raises(ValueError, match='invalid subset'):
            Subset(list_or_slice, 5)

    def test_num_examples_and_emptiness(self):
        assert Subset(slice(1, 4), 5).num_examples == 3
        assert Subset(slice(None), 5).num_examples == 5
        assert Subset([0, 3], 5).num_examples == 2
        assert Subset.empty_subset(5).is_empty
        assert not Subset([1], 5).is_empty

    def test_requests_map_onto_the_whole_data(self):
        assert Subset(slice(2, 6), 10)[[0, 3]] == [2, 5]
        assert Subset(slice(2, 6), 10)[slice(1, 3)] == slice(3, 5, None)
        assert Subset([1, 4, 7], 10)[[2, 0]] == [7, 1]
        assert Subset([1, 4, 7], 10)[slice(1, None)] == [4, 7]

    def test_full_slice_request_returns_the_subset_itself(self):
        subset = Subset([1, 4], 10)
        assert subset[slice(None)] is subset.list_or_slice

    @pytest.mark.parametrize('request_', [[0, 4], [-1], slice(0, 5)])
    def test_out_of_range_requests_are_rejected(self, request_):
        with pytest.raises(ValueError, match="out of the subset's range"):
            Subset(slice(2, 6), 10)[request_]

    @pytest.mark.parametrize('slice_, num_examples', [
        (slice(None, 10), 2), (slice(13, 18), 10), (slice(10, 10), 10)])
    def test_slices_outside_the_dataset_are_rejected(self, slice_,
                                                     num_examples):
        with pytest.raises(ValueError, match='within the'):
            Subset(slice_, num_examples)

    @pytest.mark.parametrize('indices, match', [
        ([], 'empty list'), ([0, -1], 'negative index'),
        ([0, 5], 'past the end')])
    def test_list_request_sanity_check(self, indices, match):
        with pytest.raises(ValueError, match=match):
            Subset._list_request_sanity_check(indices, 5)
        with pytest.raises(ValueError, match=match):
            Subset(slice(0, 5), 10)[indices]
        Subset._list_request_sanity_check([0, 4], 5)

    @pytest.mark.parametrize('slice_, match', [
        (slice(-1, 3), 'negative'), (slice(0, -1), 'negative'),
        (slice(0, 3, -1), 'negative'), (slice(0, 6), 'stops past the end'),
        (slice(5, None), 'starts past the end'), (slice(3, 3), 'empty')])
    def test_slice_request_sanity_check(self, slice_, match):
        subset = Subset(slice(0, 5), 10)
        with pytest.raises(ValueError, match=match):
            subset._slice_request_sanity_check(slice_, 5)
        with pytest.raises(ValueError, match=match):
            subset[slice_]
        subset._slice_request_sanity_check(slice(1, 5), 5)

    def test_empty_subset_cannot_be_indexed(self):
        with pytest.raises(ValueError, match='empty subset'):
            Subset.empty_subset(3)[[0]]

    def test_adding_touching_slices_gives_one_slice(self):
        total = Subset(slice(0, 4), 10) + Subset(slice(4, 7), 10)
        assert total.list_or_slice == slice(0, 7, 1)

    def test_adding_disjoint_subsets_gives_a_list(self):
        total = Subset(slice(0, 2), 10) + Subset([5, 7], 10)
        assert total.list_or_slice == [0, 1, 5, 7]

    def test_empty_subset_is_neutral(self):
        right = Subset([2, 5], 10)
        assert (Subset.empty_subset(10) + right) is right

    def test_adding_subsets_of_different_datasets_fails(self):
        with pytest.raises(ValueError, match='different sizes'):
            Subset([1], 5) + Subset([1], 6)

    def test_subset_of_and_list_representation(self):
        inner = Subset.subset_of(Subset(slice(2, 8), 10), slice(1, 3))
        assert inner.get_list_representation() == [3, 4]

    def test_slice_to_numerical_args(self):
        assert Subset.slice_to_numerical_args(slice(None), 4) == (0, 4, 1)

    def test_index_within_subset(self):
        data = numpy.arange(10) * 10
        subset = Subset(slice(2, 8), 10)
        assert subset.index_within_subset(data, 1) == 30
        assert list(subset.index_within_subset(data, [3, 0])) == [50, 20]
        assert list(subset.index_within_subset(data, slice(0, 2))) == [20, 30]
        assert subset.index_within_subset(list(data), [1, 0]) == [30, 20]
        assert list(subset.index_within_subset(
            data, [3, 0], sort_indices=True)) == [50, 20]

    def test_negative_index_into_full_subset_is_rejected(self):
        with pytest.raises(ValueError, match="out of the subset's range"):
            Subset(slice(None), 4).index_within_subset(numpy.arange(4), [-1])

    def test_sorted_fancy_indexing_restores_order(self):
        data = numpy.arange(20).reshape(10, 2)
        result = Subset.sorted_fancy_indexing(data, [7, 2, 5])
        assert (result == data[[7, 2, 5]]).all()


def test_iterable_fancy_indexing_takes_lists_and_masks():
    assert iterable_fancy_indexing('abc', [2, 0]) == ['c', 'a']
    assert iterable_fancy_indexing('abc', [True, False, True]) == ['a', 'c']


@do_not_pickle_attributes('cache', 'handle')
class Lazy:
    loads = 0

    def load(self):
        Lazy.loads += 1
        self.cache = lambda: 'rebuilt'
        self.handle = 'handle'


class Broken:
    def load(self):
        pass


def test_lazy_attributes_are_loaded_on_first_use_and_not_pickled():
    lazy = Lazy()
    loads = Lazy.loads
    assert lazy.cache() == 'rebuilt'
    assert Lazy.loads == loads + 1
    # The lambda would not pickle: it must be left out.
    clone = pickle.loads(pickle.dumps(lazy))
    assert '_cache' not in vars(clone)
    assert clone.handle == 'handle'


def test_lazy_attribute_never_loaded_is_an_error():
    cls = do_not_pickle_attributes('value')(Broken)
    with pytest.raises(ValueError, match="value wasn't loaded"):
        cls().value


def test_lazy_attributes_need_a_load_method():
    with pytest.raises(ValueError, match='no load'):
        do_not_pickle_attributes('x')(type('NoLoad', (), {}))


def test_iterators_cannot_be_lazy_attributes():
    lazy = Lazy()
    lazy.cache = iter([1])
    with pytest.raises(ValueError, match='iterator'):
        pickle.dumps(lazy)


def test_find_in_data_path(tmp_path, monkeypatch):
    (tmp_path / 'second').mkdir()
    (tmp_path / 'second' / 'data.hdf5').write_bytes(b'')
    monkeypatch.setenv('BLOCKS_DATA_PATH', os.pathsep.join(
        [str(tmp_path / 'first'), str(tmp_path / 'second')]))
    assert find_in_data_path('data.hdf5') == str(
        tmp_path / 'second' / 'data.hdf5')
    with pytest.raises(OSError, match="other.hdf5 not found in Fuel's data "
                       "path.*blocks-convert"):
        find_in_data_path('other.hdf5')


def test_cache_file_copies_under_local_data_path(tmp_path, monkeypatch):
    source = tmp_path / 'data' / 'file.hdf5'
    source.parent.mkdir()
    source.write_bytes(b'content')
    monkeypatch.setenv('FUEL_LOCAL_DATA_PATH', '')
    assert cache_file(str(source)) == str(source)
    monkeypatch.setenv('BLOCKS_DATA_PATH', str(tmp_path / 'data'))
    monkeypatch.setenv('FUEL_LOCAL_DATA_PATH', str(tmp_path / 'local'))
    copy = cache_file(str(source))
    assert copy == str(tmp_path / 'local' / 'file.hdf5')
    assert open(copy, 'rb').read() == b'content'
    # No temporary file left, and the copy is readable like any new file.
    assert os.listdir(tmp_path / 'local') == ['file.hdf5']
    assert stat.S_IMODE(os.stat(copy).st_mode) == FILE_MODE


def test_remember_cwd_restores_the_directory(tmp_path):
    before = os.getcwd()
    with remember_cwd():
        os.chdir(tmp_path)
    assert os.getcwd() == before


def test_buffer_is_memoryview():
    assert buffer_ is memoryview


def test_config_floatX_is_read_from_the_environment(floatX):
    assert config.floatX == floatX
