"""Tests of blocks.data.datasets.hdf5."""
import pickle

import h5py
import numpy
import pytest

from blocks.data.datasets import H5PYDataset
from blocks.data.schemes import SequentialExampleScheme
from blocks.data.streams import DataStream

FEATURES = numpy.arange(60, dtype='float32').reshape(10, 2, 3)


class TestCreateSplitArray:
    def test_fields_rows_and_defaults(self):
        array = H5PYDataset.create_split_array({
            'train': {'x': (0, 8), 'yy': (0, 8, None, 'note')},
            'test': {'x': (8, 10)}})
        assert array.dtype.names == ('split', 'source', 'start', 'stop',
                                     'indices', 'available', 'comment')
        assert array.dtype['split'] == numpy.dtype('S5')
        assert array.dtype['comment'] == numpy.dtype('S4')
        rows = [(r['split'], r['source'], r['start'], r['stop'],
                 bool(r['indices']), r['available'], r['comment'])
                for r in array]
        assert rows == [
            (b'train', b'x', 0, 8, False, True, b'.'),
            (b'train', b'yy', 0, 8, False, True, b'note'),
            (b'test', b'x', 8, 10, False, True, b'.'),
            (b'test', b'yy', 0, 0, False, False, b'.')]
        assert array['start'].dtype == numpy.int64
        assert array['start'].shape == (4,)

    def test_none_indices_and_empty_comment(self):
        array = H5PYDataset.create_split_array(
            {'train': {'x': (0, 20, None, '')}})
        assert not array[0]['indices']
        assert array[0]['comment'] == b'.'


def test_static_readers(h5_path):
    with h5py.File(h5_path, 'r') as f:
        assert set(H5PYDataset.get_all_splits(f)) == {'train', 'test'}
        assert set(H5PYDataset.get_all_sources(f)) == {'features', 'targets'}
        assert set(H5PYDataset.get_provided_sources(f, 'test')) == {
            'features', 'targets'}
        assert H5PYDataset.get_vlen_sources(f) == []
        assert H5PYDataset.get_axis_labels(f) == {
            'features': ('batch', 'height', 'width'),
            'targets': ('batch', 'index')}
        subsets = H5PYDataset.get_subsets(f, ['train', 'test'], ['targets'])
        assert subsets[0].list_or_slice == slice(0, 10, 1)


class TestH5PYDataset:
    @pytest.mark.parametrize('load_in_memory', [False, True])
    def test_reads_requests_of_every_kind(self, h5_path, load_in_memory):
        dataset = H5PYDataset(h5_path, which_sets=('test',),
                              load_in_memory=load_in_memory)
        assert dataset.sources == ('features', 'targets')
        assert dataset.num_examples == 2
        state = dataset.open()
        features, targets = dataset.get_data(state, 1)
        assert (features == FEATURES[9]).all() and targets.tolist() == [9]
        features, _ = dataset.get_data(state, slice(0, 2))
        assert (features == FEATURES[8:]).all()
        features, targets = dataset.get_data(state, [1, 0])
        assert (features == FEATURES[[9, 8]]).all()
        assert targets.ravel().tolist() == [9, 8]
        dataset.close(state)

    def test_axis_labels_and_example_scheme(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',))
        assert dataset.axis_labels['features'] == ('batch', 'height', 'width')
        assert isinstance(dataset.example_iteration_scheme,
                          SequentialExampleScheme)
        stream = dataset.get_example_stream()
        assert stream.axis_labels['features'] == ('height', 'width')
        assert len(list(stream.get_epoch_iterator())) == 8

    def test_splits_concatenate_and_subset_narrows(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('test', 'train'),
                              subset=slice(5, 10), load_in_memory=True)
        assert dataset.num_examples == 5
        _, targets = dataset.get_data(request=slice(0, 5))
        assert targets.ravel().tolist() == [5, 6, 7, 8, 9]

    def test_sources_can_be_selected_and_ordered(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',),
                              sources=('targets', 'features'))
        targets, features = dataset.get_data(request=[0])
        assert targets.shape == (1, 1) and features.shape == (1, 2, 3)

    def test_which_sets_must_not_be_a_string(self, h5_path):
        with pytest.raises(ValueError, match=r"iterable of strings.*\('train',"
                           r"\) rather than 'train'"):
            H5PYDataset(h5_path, which_sets='train')

    def test_unknown_split_names_file_and_splits(self, h5_path):
        with pytest.raises(ValueError, match="'valid' split is not provided "
                           "by this dataset. Available splits are .*dataset"
                           ".hdf5"):
            H5PYDataset(h5_path, which_sets=('valid',))

    def test_unknown_source_names_file_and_sources(self, h5_path):
        with pytest.raises(ValueError, match=r"unable to provide requested "
                           r"sources \['labels'\]: .*dataset.hdf5"):
            H5PYDataset(h5_path, which_sets=('train',), sources=('labels',))

    def test_missing_file(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="missing.hdf5' does not "
                           "exist.*blocks-convert"):
            H5PYDataset(str(tmp_path / 'missing.hdf5'), which_sets=('train',))

    def test_corrupt_file(self, tmp_path):
        path = tmp_path / 'corrupt.hdf5'
        path.write_bytes(b'this is not HDF5' * 10)
        with pytest.raises(OSError, match="cannot read .*corrupt.hdf5' as "
                           "an HDF5 file.*rebuild"):
            H5PYDataset(str(path), which_sets=('train',))

    def test_file_without_split_attribute(self, tmp_path):
        path = str(tmp_path / 'plain.hdf5')
        with h5py.File(path, 'w') as f:
            f['x'] = numpy.arange(3)
        with pytest.raises(ValueError, match="plain.hdf5' has no 'split' "
                           "attribute.*create_split_array"):
            H5PYDataset(path, which_sets=('train',))

    def test_file_missing_a_listed_source(self, tmp_path):
        path = str(tmp_path / 'partial.hdf5')
        with h5py.File(path, 'w') as f:
            f['x'] = numpy.arange(3)
            f.attrs['split'] = H5PYDataset.create_split_array(
                {'train': {'x': (0, 3), 'y': (0, 3)}})
        with pytest.raises(ValueError, match="partial.hdf5' lists source 'y'"
                           ".*no dataset of that name"):
            H5PYDataset(path, which_sets=('train',))

    def test_sources_of_different_lengths(self, tmp_path):
        path = str(tmp_path / 'uneven.hdf5')
        with h5py.File(path, 'w') as f:
            f['x'] = numpy.arange(3)
            f['y'] = numpy.arange(3)
            f.attrs['split'] = H5PYDataset.create_split_array(
                {'train': {'x': (0, 3), 'y': (0, 2)}})
        with pytest.raises(ValueError, match='sources have different lengths'):
            H5PYDataset(path, which_sets=('train',))

    def test_split_defined_by_an_indices_reference(self, tmp_path):
        path = str(tmp_path / 'indexed.hdf5')
        with h5py.File(path, 'w') as f:
            f['x'] = numpy.arange(10) * 10
            indices = f.create_dataset('train_indices', data=[7, 1, 3, 3])
            f.attrs['split'] = H5PYDataset.create_split_array(
                {'train': {'x': (-1, -1, indices.ref)}})
        dataset = H5PYDataset(path, which_sets=('train',))
        assert dataset.num_examples == 3
        assert dataset.get_data(request=slice(0, 3))[0].tolist() == [10, 30,
                                                                      70]

    def test_unsorted_list_without_sort_indices_fails_in_h5py(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',),
                              sort_indices=False)
        with pytest.raises(TypeError):
            dataset.get_data(request=[3, 1])

    def test_out_of_memory_request_types(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',))
        with pytest.raises(ValueError, match='index, a slice or a list'):
            dataset.get_data(request=numpy.array([0]))

    def test_in_memory_needs_request_and_no_state(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',),
                              load_in_memory=True)
        with pytest.raises(ValueError, match='needs a request'):
            dataset.get_data()

    def test_file_handle_is_shared_and_reference_counted(self, h5_path):
        first = H5PYDataset(h5_path, which_sets=('train',))
        second = H5PYDataset(h5_path, which_sets=('test',))
        with pytest.raises(OSError, match='no open handle'):
            first._file_handle
        first.open()
        second.open()
        assert first._file_handle is second._file_handle
        assert H5PYDataset._ref_counts[h5_path] == 2
        first.close(None)
        assert first._file_handle  # still open for the second
        second.close(None)
        assert h5_path not in H5PYDataset._file_handles

    def test_get_data_opens_the_file_when_needed(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',))
        assert dataset.get_data(request=0)[1].tolist() == [0]

    def test_external_file_handle(self, h5_path):
        with h5py.File(h5_path, 'r') as f:
            dataset = H5PYDataset(f, which_sets=('train',))
            assert dataset._file_handle is f
            assert dataset.get_data(request=[1])[1].tolist() == [[1]]
            clone = pickle.loads(pickle.dumps(dataset))
        assert clone.external_file_handle is None
        assert clone.get_data(request=[2])[1].tolist() == [[2]]

    @pytest.mark.parametrize('load_in_memory', [False, True])
    def test_pickling_keeps_the_path_not_the_data(self, h5_path,
                                                  load_in_memory):
        dataset = H5PYDataset(h5_path, which_sets=('train',),
                              load_in_memory=load_in_memory)
        dataset.get_data(request=[0])
        lazy = {'_data_sources', '_subsets', '_external_file_handle'}
        assert not lazy & set(dataset.__getstate__())
        clone = pickle.loads(pickle.dumps(dataset))
        assert (clone.get_data(request=[4])[0] == FEATURES[[4]]).all()

    def test_changing_sources_reloads_the_subsets(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',),
                              load_in_memory=True)
        dataset.sources = ('targets',)
        assert dataset.get_data(request=[1])[0].tolist() == [[1]]

    def test_stream_over_lazy_dataset(self, h5_path):
        dataset = H5PYDataset(h5_path, which_sets=('train',))
        stream = DataStream(dataset,
                            iteration_scheme=SequentialExampleScheme(8))
        assert len(list(stream.get_epoch_iterator())) == 8
        assert len(list(stream.get_epoch_iterator())) == 8
        stream.close()
        assert h5_path not in H5PYDataset._file_handles


@pytest.fixture
def vlen_path(tmp_path):
    path = str(tmp_path / 'vlen.hdf5')
    sequences = [numpy.arange(6).reshape(3, 2), numpy.arange(2).reshape(1, 2),
                 numpy.arange(8).reshape(4, 2)]
    with h5py.File(path, 'w') as f:
        data = f.create_dataset('seq', (3,),
                                dtype=h5py.vlen_dtype(numpy.dtype('int64')))
        for i, sequence in enumerate(sequences):
            data[i] = sequence.ravel()
        data.dims[0].label = 'batch'
        shapes = f.create_dataset('seq_shapes', data=numpy.array(
            [s.shape for s in sequences]))
        labels = f.create_dataset('seq_shape_labels',
                                  data=[b'time', b'feature'])
        shapes.make_scale('shapes')
        labels.make_scale('shape_labels')
        data.dims[0].attach_scale(shapes)
        data.dims[0].attach_scale(labels)
        f.attrs['split'] = H5PYDataset.create_split_array(
            {'train': {'seq': (0, 3)}})
    return path, sequences


@pytest.mark.parametrize('load_in_memory', [False, True])
def test_variable_length_source(vlen_path, load_in_memory):
    path, sequences = vlen_path
    dataset = H5PYDataset(path, which_sets=('train',),
                          load_in_memory=load_in_memory)
    assert dataset.vlen_sources == ['seq']
    assert dataset.axis_labels['seq'] == ('batch', 'time', 'feature')
    single, = dataset.get_data(request=2)
    assert (single == sequences[2]).all()
    batch, = dataset.get_data(request=[2, 0])
    assert batch.dtype == object
    assert (batch[0] == sequences[2]).all()
    assert (batch[1] == sequences[0]).all()
