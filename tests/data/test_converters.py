"""Tests of blocks.data.converters, blocks-convert and the MNIST/CIFAR10
datasets, on small raw files built here."""
import gzip
import io
import os
import pickle
import stat
import struct
import tarfile

import h5py
import numpy
import pytest

from blocks.data.config import config as data_config
from blocks.data.converters import all_converters, cifar10, mnist
from blocks.data.converters.base import (MissingInputFiles, check_exists,
                                         fill_hdf5_file, progress_bar)
from blocks.data.converters.cli import main
from blocks.data.datasets import CIFAR10, MNIST, H5PYDataset
from blocks.data.exceptions import ConfigurationError
from blocks.data.schemes import SequentialScheme
from blocks.data.streams import DataStream
from blocks.serialization.atomic import FILE_MODE

TRAIN, TEST = 6, 4


def write_idx(path, magic, array, compress=True):
    header = struct.pack(f'>{array.ndim + 1}i', magic, *array.shape)
    opener = gzip.open if compress else open
    with opener(path, 'wb') as f:
        f.write(header + array.astype('uint8').tobytes())


def mnist_images(number):
    return (numpy.arange(number * 4 * 3) * 7 % 256).reshape(number, 4, 3)


@pytest.fixture
def mnist_dir(tmp_path):
    directory = tmp_path / 'raw'
    directory.mkdir()
    write_idx(directory / mnist.TRAIN_IMAGES, 2051, mnist_images(TRAIN))
    write_idx(directory / mnist.TRAIN_LABELS, 2049, numpy.arange(TRAIN) % 10)
    # Uncompressed files are accepted too.
    write_idx(directory / mnist.TEST_IMAGES[:-3], 2051, mnist_images(TEST),
              compress=False)
    write_idx(directory / mnist.TEST_LABELS[:-3], 2049,
              numpy.arange(TEST) + 3, compress=False)
    return str(directory)


def cifar_batch(number, offset):
    return {'data': (numpy.arange(number * 3072) + offset).astype(
        'uint8').reshape(number, 3072),
        'labels': [int(label)
                   for label in (numpy.arange(number) + offset) % 10],
        'batch_label': 'batch'}


@pytest.fixture
def cifar_dir(tmp_path):
    directory = tmp_path / 'raw'
    directory.mkdir()
    members = {f'data_batch_{i}': cifar_batch(2, i) for i in range(1, 6)}
    members['test_batch'] = cifar_batch(3, 0)
    with tarfile.open(directory / cifar10.DISTRIBUTION_FILE, 'w:gz') as tar:
        for name, content in members.items():
            payload = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f'cifar-10-batches-py/{name}')
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return str(directory)


class TestReadMNIST:
    def test_images_and_labels(self, mnist_dir):
        images = mnist.read_mnist_images(
            os.path.join(mnist_dir, mnist.TRAIN_IMAGES))
        assert images.shape == (TRAIN, 1, 4, 3) and images.dtype == 'uint8'
        assert (images[:, 0] == mnist_images(TRAIN)).all()
        labels = mnist.read_mnist_labels(
            os.path.join(mnist_dir, mnist.TRAIN_LABELS))
        assert labels.shape == (TRAIN, 1) and labels.dtype == 'uint8'

    def test_dtypes(self, mnist_dir):
        path = os.path.join(mnist_dir, mnist.TRAIN_IMAGES)
        floats = mnist.read_mnist_images(path, 'float32')
        assert floats.dtype == 'float32'
        assert numpy.allclose(floats[:, 0], mnist_images(TRAIN) / 255.)
        binary = mnist.read_mnist_images(path, 'bool')
        assert (binary[:, 0] == (mnist_images(TRAIN) >= 128)).all()
        with pytest.raises(ValueError, match='Unknown dtype to convert MNIST'):
            mnist.read_mnist_images(path, 'int32')

    def test_wrong_magic_and_truncated_files(self, tmp_path):
        path = str(tmp_path / 'images.gz')
        write_idx(path, 2049, mnist_images(2))
        with pytest.raises(ValueError, match='Wrong magic number reading '
                           'MNIST image file.*expected 2051, got 2049'):
            mnist.read_mnist_images(path)
        with gzip.open(path, 'wb') as f:
            f.write(struct.pack('>4i', 2051, 5, 4, 3) + b'\x00' * 10)
        with pytest.raises(ValueError, match='truncated or corrupt'):
            mnist.read_mnist_images(path)
        with open(path, 'wb') as f:
            f.write(b'\x00')
        with pytest.raises(ValueError, match='too short'):
            mnist.read_mnist_labels(path)


class TestConvertMNIST:
    def test_file_layout(self, mnist_dir, tmp_path):
        path, = mnist.convert_mnist(mnist_dir, str(tmp_path))
        assert path == str(tmp_path / 'mnist.hdf5')
        with h5py.File(path, 'r') as f:
            assert f['features'].shape == (TRAIN + TEST, 1, 4, 3)
            assert f['targets'].dtype == numpy.uint8
            assert tuple(d.label for d in f['features'].dims) == (
                'batch', 'channel', 'height', 'width')
            assert tuple(d.label for d in f['targets'].dims) == (
                'batch', 'index')
            assert H5PYDataset.get_all_splits(f) == ('train', 'test')
        assert not [n for n in os.listdir(tmp_path) if n.startswith('.')]
        # Readable like any new file (a data path is often shared).
        assert stat.S_IMODE(os.stat(path).st_mode) == FILE_MODE

    @pytest.mark.parametrize('dtype, name', [(None, 'mnist.hdf5'),
                                             ('float32', 'mnist_float32.hdf5'),
                                             ('bool', 'mnist_bool.hdf5')])
    def test_output_names(self, mnist_dir, tmp_path, dtype, name):
        path, = mnist.convert_mnist(mnist_dir, str(tmp_path), dtype=dtype)
        assert os.path.basename(path) == name

    def test_missing_inputs(self, tmp_path):
        with pytest.raises(MissingInputFiles) as error:
            mnist.convert_mnist(str(tmp_path), str(tmp_path))
        assert error.value.filenames == mnist.ALL_FILES
        assert error.value.args == ('Required files missing', mnist.ALL_FILES)


class TestMNISTDataset:
    def test_reads_the_converted_file_from_the_data_path(
            self, mnist_dir, tmp_path, monkeypatch, floatX):
        mnist.convert_mnist(mnist_dir, str(tmp_path))
        monkeypatch.setenv('BLOCKS_DATA_PATH', str(tmp_path))
        train = MNIST(('train',))
        assert train.num_examples == TRAIN and train.load_in_memory
        test = MNIST(('test',), load_in_memory=False)
        assert test.get_data(request=[0])[1].tolist() == [[3]]
        stream = DataStream.default_stream(
            train, iteration_scheme=SequentialScheme(TRAIN, TRAIN))
        features, targets = next(stream.get_epoch_iterator())
        assert features.dtype == floatX and features.max() <= 1
        assert targets.dtype == numpy.uint8

    def test_absent_file_and_unset_data_path(self, tmp_path, monkeypatch):
        monkeypatch.setenv('BLOCKS_DATA_PATH', str(tmp_path))
        with pytest.raises(OSError, match='mnist.hdf5 not found'):
            MNIST(('train',))
        monkeypatch.delenv('BLOCKS_DATA_PATH')
        monkeypatch.delenv('FUEL_DATA_PATH', raising=False)
        for source in ('value', 'yaml'):
            monkeypatch.delitem(data_config.config['data_path'], source,
                                raising=False)
        with pytest.raises(ConfigurationError, match='data_path'):
            MNIST(('train',))


class TestCIFAR10:
    def test_convert_and_read(self, cifar_dir, tmp_path, monkeypatch):
        path, = cifar10.convert_cifar10(cifar_dir, str(tmp_path))
        assert os.path.basename(path) == 'cifar10.hdf5'
        monkeypatch.setenv('BLOCKS_DATA_PATH', str(tmp_path))
        train = CIFAR10(('train',))
        assert train.num_examples == 10
        features, targets = train.get_data(request=[0, 9])
        assert features.shape == (2, 3, 32, 32)
        expected = cifar_batch(2, 5)['data'][1].reshape(3, 32, 32)
        assert (features[1] == expected).all()
        assert targets.ravel().tolist() == [1, 6]
        assert CIFAR10(('test',)).num_examples == 3
        with pytest.raises(ValueError, match="'valid' split"):
            CIFAR10(('valid',))
        with pytest.raises(ValueError, match=r"subset slice\(10, 20, None\) "
                           r"does not fit the 10 examples of splits"):
            CIFAR10(('train',), subset=slice(10, 20))

    def test_missing_archive(self, tmp_path):
        with pytest.raises(MissingInputFiles, match='Required files missing'):
            cifar10.convert_cifar10(str(tmp_path), str(tmp_path))

    def test_rejects_pickles_that_run_code(self, tmp_path):
        directory = tmp_path / 'raw'
        directory.mkdir()
        payload = pickle.dumps(os.system)
        with tarfile.open(directory / cifar10.DISTRIBUTION_FILE,
                          'w:gz') as tar:
            info = tarfile.TarInfo('cifar-10-batches-py/data_batch_1')
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        with pytest.raises(pickle.UnpicklingError, match='not the original'):
            cifar10.convert_cifar10(str(directory), str(tmp_path))


class TestBase:
    def test_fill_hdf5_file(self, tmp_path):
        with h5py.File(tmp_path / 'out.hdf5', 'w') as f:
            fill_hdf5_file(f, (
                ('train', 'x', numpy.arange(4), 'first'),
                ('test', 'x', numpy.arange(2)),
                ('train', 'y', numpy.ones((4, 2)))))
            assert f['x'][:].tolist() == [0, 1, 2, 3, 0, 1]
            split = f.attrs['split']
            rows = {(r['split'], r['source']): (r['start'], r['stop'],
                                                 r['available'], r['comment'])
                    for r in split}
        assert rows[(b'train', b'x')] == (0, 4, True, b'first')
        assert rows[(b'test', b'x')] == (4, 6, True, b'.')
        assert rows[(b'test', b'y')][2] == False  # noqa: E712

    @pytest.mark.parametrize('data, message', [
        ((('train', 'x', numpy.arange(4)), ('train', 'y', numpy.arange(3))),
         "split 'train' has sources that vary in length"),
        ((('train', 'x', numpy.arange(4)), ('test', 'x', numpy.ones(2))),
         "source 'x' has splits that vary in dtype"),
        ((('train', 'x', numpy.ones((2, 2))),
          ('test', 'x', numpy.ones((2, 3)))),
         "source 'x' has splits that vary in shapes")])
    def test_fill_hdf5_file_rejects_inconsistent_data(self, tmp_path, data,
                                                      message):
        with h5py.File(tmp_path / 'out.hdf5', 'w') as f:
            with pytest.raises(ValueError, match=message):
                fill_hdf5_file(f, data)

    def test_check_exists(self, tmp_path):
        (tmp_path / 'present').write_text('')

        @check_exists(required_files=['present', 'absent'])
        def convert(directory):
            return 'converted'

        with pytest.raises(MissingInputFiles) as error:
            convert(str(tmp_path))
        assert error.value.filenames == ['absent']
        (tmp_path / 'absent').write_text('')
        assert convert(str(tmp_path)) == 'converted'

    def test_progress_bar(self, capsys):
        with progress_bar('data', 3) as bar:
            bar.update(1)
        assert 'Converting data' in capsys.readouterr().out


class TestCommandLine:
    def test_all_converters(self):
        assert dict(all_converters) == {'cifar10': cifar10.fill_subparser,
                                        'mnist': mnist.fill_subparser}

    def test_converts_mnist_and_tags_the_file(self, mnist_dir, tmp_path,
                                              capsys):
        main(['mnist', '-d', mnist_dir, '-o', str(tmp_path),
              '--dtype', 'float32', '-r', 'digits'])
        path = tmp_path / 'digits.hdf5'
        assert f'Wrote {path}' in capsys.readouterr().out
        with h5py.File(path, 'r') as f:
            assert f['features'].dtype == numpy.float32
            assert f.attrs['h5py_interface_version'] == '0.3'
            assert 'mnist' in f.attrs['fuel_convert_command']

    def test_missing_files_are_listed(self, tmp_path, capsys):
        with pytest.raises(SystemExit):
            main(['cifar10', '-d', str(tmp_path), '-o', str(tmp_path)])
        assert '* cifar-10-python.tar.gz' in capsys.readouterr().err

    def test_output_directory_must_exist(self, tmp_path, capsys):
        with pytest.raises(SystemExit):
            main(['mnist', '-o', str(tmp_path / 'nowhere')])
        assert 'not an existing directory' in capsys.readouterr().err

    def test_extra_converters_must_not_clash(self, monkeypatch):
        monkeypatch.setenv('FUEL_EXTRA_CONVERTERS',
                           'blocks.data.converters')
        with pytest.raises(ValueError, match='conflict in name'):
            main(['mnist'])
