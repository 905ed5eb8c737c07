"""Build ``cifar10.hdf5`` from the CIFAR-10 python archive
(``fuel.converters.cifar10``)."""
import argparse
import codecs
import os
import pickle
import tarfile
from collections.abc import Callable
from typing import IO, Any

import numpy

from blocks.data.converters.base import (IMAGE_AXIS_LABELS, atomic_hdf5_file,
                                         check_exists, fill_hdf5_file,
                                         set_axis_labels)

DISTRIBUTION_FILE = 'cifar-10-python.tar.gz'
_BATCH_DIR = 'cifar-10-batches-py'

# The batches are pickles: allow only what numpy arrays need, so that a
# tampered archive cannot run code.
_ALLOWED_GLOBALS = {
    # Protocol 2 pickles written by Python 3 encode bytes with it.
    ('_codecs', 'encode'): codecs.encode,
    ('numpy', 'ndarray'): numpy.ndarray,
    ('numpy', 'dtype'): numpy.dtype,
    ('numpy.core.multiarray', '_reconstruct'):
        numpy._core.multiarray._reconstruct,
    ('numpy._core.multiarray', '_reconstruct'):
        numpy._core.multiarray._reconstruct,
    ('numpy.core.multiarray', 'scalar'): numpy._core.multiarray.scalar,
    ('numpy._core.multiarray', 'scalar'): numpy._core.multiarray.scalar,
    ('numpy.core.numeric', '_frombuffer'): numpy._core.numeric._frombuffer,
    ('numpy._core.numeric', '_frombuffer'): numpy._core.numeric._frombuffer,
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"CIFAR-10 batch refers to {module}.{name}, which a data "
                "batch never needs; the archive is not the original one"
            ) from None


def _load_batch(tar_file: tarfile.TarFile, name: str) -> dict:
    member = f'{_BATCH_DIR}/{name}'
    try:
        file: IO[bytes] = tar_file.extractfile(member)
    except KeyError:
        raise ValueError(
            f"{DISTRIBUTION_FILE} has no member {member!r}; the archive is "
            "incomplete: download it again") from None
    with file:
        batch = _BatchUnpickler(file, encoding='latin1').load()
    if not isinstance(batch, dict) or not {'data', 'labels'} <= batch.keys():
        raise ValueError(f"{member} in {DISTRIBUTION_FILE} is not a CIFAR-10 "
                         "batch (a dict with 'data' and 'labels')")
    return batch


def _features_and_targets(batches: list[dict]) -> tuple[numpy.ndarray, ...]:
    features = numpy.concatenate([
        numpy.asarray(batch['data'], dtype=numpy.uint8).reshape(-1, 3, 32, 32)
        for batch in batches])
    targets = numpy.concatenate([
        numpy.asarray(batch['labels'], dtype=numpy.uint8)
        for batch in batches])
    return features, targets[:, None]


@check_exists(required_files=[DISTRIBUTION_FILE])
def convert_cifar10(directory: str, output_directory: str,
                    output_filename: str = 'cifar10.hdf5') -> tuple[str]:
    """Build the CIFAR-10 HDF5 file from ``cifar-10-python.tar.gz``.

    Parameters
    ----------
    directory
        Directory holding :data:`DISTRIBUTION_FILE`.
    output_directory
        Where to write the file.
    output_filename
        Name of the file.

    Returns
    -------
    tuple
        The path of the file written.

    """
    output_path = os.path.join(output_directory, output_filename)
    with tarfile.open(os.path.join(directory, DISTRIBUTION_FILE),
                      'r:gz') as tar_file:
        train = [_load_batch(tar_file, f'data_batch_{i}')
                 for i in range(1, 6)]
        test = [_load_batch(tar_file, 'test_batch')]
    train_features, train_targets = _features_and_targets(train)
    test_features, test_targets = _features_and_targets(test)
    data = (('train', 'features', train_features),
            ('train', 'targets', train_targets),
            ('test', 'features', test_features),
            ('test', 'targets', test_targets))
    with atomic_hdf5_file(output_path) as h5file:
        fill_hdf5_file(h5file, data)
        set_axis_labels(h5file, IMAGE_AXIS_LABELS)
    return (output_path,)


def fill_subparser(subparser: argparse.ArgumentParser) -> Callable:
    """CIFAR-10 has no options; return :func:`convert_cifar10`."""
    return convert_cifar10
