"""Fixtures of the data layer tests."""
import h5py
import numpy
import pytest

from blocks.data.datasets import H5PYDataset


@pytest.fixture
def floatX(monkeypatch):
    """Set ``config.floatX`` through its environment variable."""
    monkeypatch.setenv('FUEL_FLOATX', 'float32')
    return 'float32'


@pytest.fixture
def h5_path(tmp_path):
    """An HDF5 file in Fuel's layout: 'features' (10, 2, 3) float32 and
    'targets' (10, 1) uint8; splits train [0, 8), test [8, 10)."""
    path = tmp_path / 'dataset.hdf5'
    with h5py.File(path, 'w') as f:
        features = f.create_dataset('features', data=numpy.arange(
            60, dtype='float32').reshape(10, 2, 3))
        targets = f.create_dataset('targets', data=numpy.arange(
            10, dtype='uint8').reshape(10, 1))
        for dim, label in zip(features.dims, ('batch', 'height', 'width')):
            dim.label = label
        for dim, label in zip(targets.dims, ('batch', 'index')):
            dim.label = label
        f.attrs['split'] = H5PYDataset.create_split_array({
            'train': {'features': (0, 8), 'targets': (0, 8)},
            'test': {'features': (8, 10), 'targets': (8, 10)}})
    return str(path)


@pytest.fixture(autouse=True)
def no_open_hdf5_handles():
    """Each test leaves no shared HDF5 handle open."""
    yield
    for path in list(H5PYDataset._file_handles):
        H5PYDataset._file_handles.pop(path).close()
    H5PYDataset._ref_counts.clear()
