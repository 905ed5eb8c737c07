"""Build ``mnist.hdf5`` from the MNIST IDX files
(``fuel.converters.mnist``)."""
import argparse
import gzip
import os
import struct
from collections.abc import Callable
from typing import IO

import numpy

from blocks.data.converters.base import (IMAGE_AXIS_LABELS, atomic_hdf5_file,
                                         fill_hdf5_file, set_axis_labels)
from blocks.data.exceptions import MissingInputFiles

MNIST_IMAGE_MAGIC = 2051
MNIST_LABEL_MAGIC = 2049
TRAIN_IMAGES = 'train-images-idx3-ubyte.gz'
TRAIN_LABELS = 'train-labels-idx1-ubyte.gz'
TEST_IMAGES = 't10k-images-idx3-ubyte.gz'
TEST_LABELS = 't10k-labels-idx1-ubyte.gz'
ALL_FILES = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]


def _input_path(directory: str, filename: str) -> str | None:
    """The file, gzipped or not (``name.gz`` or ``name``), or ``None``."""
    for candidate in (filename, filename[:-len('.gz')]):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def _open_idx(filename: str) -> IO[bytes]:
    with open(filename, 'rb') as f:
        gzipped = f.read(2) == b'\x1f\x8b'
    return gzip.open(filename, 'rb') if gzipped else open(filename, 'rb')


def _read_idx(filename: str, magic: int, header_size: int,
              kind: str) -> tuple[tuple[int, ...], numpy.ndarray]:
    with _open_idx(filename) as f:
        header = f.read(4 * header_size)
        if len(header) < 4 * header_size:
            raise ValueError(f"{filename} is too short to be an MNIST {kind} "
                             "file; download it again")
        found, *dims = struct.unpack(f'>{header_size}i', header)
        if found != magic:
            raise ValueError(
                f"Wrong magic number reading MNIST {kind} file {filename}: "
                f"expected {magic}, got {found}; is it the right file?")
        array = numpy.frombuffer(f.read(), dtype='uint8')
    if array.size != numpy.prod(dims):
        raise ValueError(
            f"{filename} holds {array.size} bytes of data where its header "
            f"announces {int(numpy.prod(dims))}; the file is truncated or "
            "corrupt: download it again")
    return tuple(dims), array


def read_mnist_images(filename: str, dtype: str | None = None
                      ) -> numpy.ndarray:
    """Read MNIST images from an IDX file (gzipped or not).

    Parameters
    ----------
    filename
        Path of the image file.
    dtype
        ``None`` keeps uint8 pixels; a float dtype scales them to [0, 1]; a
        bool dtype thresholds them at 128.

    Returns
    -------
    numpy.ndarray
        Shape ``(N, 1, rows, cols)``.

    """
    (number, rows, cols), array = _read_idx(filename, MNIST_IMAGE_MAGIC, 4,
                                            'image')
    array = array.reshape((number, 1, rows, cols))
    if dtype:
        dtype = numpy.dtype(dtype)
        if dtype.kind == 'b':
            array = array >= 128
        elif dtype.kind == 'f':
            array = array.astype(dtype)
            array /= 255.
        else:
            raise ValueError(
                f"Unknown dtype to convert MNIST to: {dtype}; use a float "
                "dtype, bool or None (uint8)")
    return array


def read_mnist_labels(filename: str) -> numpy.ndarray:
    """Read MNIST labels from an IDX file (gzipped or not), as ``(N, 1)``
    uint8."""
    (number,), array = _read_idx(filename, MNIST_LABEL_MAGIC, 2, 'label')
    return array.reshape(number, 1)


def convert_mnist(directory: str, output_directory: str,
                  output_filename: str | None = None,
                  dtype: str | None = None) -> tuple[str]:
    """Build the MNIST HDF5 file from the four IDX files.

    Parameters
    ----------
    directory
        Directory holding the files of :data:`ALL_FILES` (gzipped, or
        uncompressed under the same names without ``.gz``).
    output_directory
        Where to write the file.
    output_filename
        Name of the file; default ``mnist.hdf5``, or ``mnist_<dtype>.hdf5``.
    dtype
        ``'float32'``, ``'float64'`` (pixels / 255), ``'bool'`` (pixel >=
        128) or ``None`` (uint8).

    Returns
    -------
    tuple
        The path of the file written.

    """
    paths = {name: _input_path(directory, name) for name in ALL_FILES}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        raise MissingInputFiles('Required files missing', missing)
    if not output_filename:
        output_filename = f'mnist_{dtype}.hdf5' if dtype else 'mnist.hdf5'
    output_path = os.path.join(output_directory, output_filename)
    data = (('train', 'features', read_mnist_images(paths[TRAIN_IMAGES],
                                                    dtype)),
            ('train', 'targets', read_mnist_labels(paths[TRAIN_LABELS])),
            ('test', 'features', read_mnist_images(paths[TEST_IMAGES],
                                                   dtype)),
            ('test', 'targets', read_mnist_labels(paths[TEST_LABELS])))
    with atomic_hdf5_file(output_path) as h5file:
        fill_hdf5_file(h5file, data)
        set_axis_labels(h5file, IMAGE_AXIS_LABELS)
    return (output_path,)


def fill_subparser(subparser: argparse.ArgumentParser) -> Callable:
    """Add the MNIST options (``--dtype``) and return :func:`convert_mnist`."""
    subparser.add_argument(
        "--dtype", help="dtype to save to; by default, images will be "
        "returned in their original unsigned byte format",
        choices=('float32', 'float64', 'bool'), type=str, default=None)
    return convert_mnist
