"""Helpers of the converters that build HDF5 files from raw data files."""
import contextlib
import contextvars
import os
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

import h5py
import numpy

from blocks.data.datasets.hdf5 import H5PYDataset
from blocks.data.exceptions import MissingInputFiles
from blocks.serialization.atomic import atomic_write

__all__ = ['MissingInputFiles', 'atomic_hdf5_file', 'check_exists',
           'fill_hdf5_file', 'progress_bar', 'set_axis_labels']

# Axis labels of the image datasets' sources.
IMAGE_AXIS_LABELS = {'features': ('batch', 'channel', 'height', 'width'),
                     'targets': ('batch', 'index')}

# Root attributes added to every file written while set (the command line
# tags files with the command that built them).
extra_file_attributes: contextvars.ContextVar[dict | None] = (
    contextvars.ContextVar('extra_file_attributes', default=None))


def check_exists(required_files: list[str]) -> Callable:
    """Decorator for ``f(directory, ...)`` checking its input files exist.

    Raises
    ------
    MissingInputFiles
        Naming every file of ``required_files`` absent from ``directory``.

    """
    def function_wrapper(f: Callable) -> Callable:
        @wraps(f)
        def wrapped(directory: str, *args: Any, **kwargs: Any) -> Any:
            missing = [filename for filename in required_files
                       if not os.path.isfile(os.path.join(directory,
                                                          filename))]
            if missing:
                raise MissingInputFiles('Required files missing', missing)
            return f(directory, *args, **kwargs)
        return wrapped
    return function_wrapper


def fill_hdf5_file(h5file: h5py.File, data: Any) -> None:
    """Write sources and the ``'split'`` attribute into an open file.

    Parameters
    ----------
    h5file
        File open for writing.
    data
        Items ``(split, source, array[, comment])``. Each source's arrays
        are concatenated in order of appearance; a split's rows are where
        its array landed.

    Raises
    ------
    ValueError
        When the arrays of one split differ in length, or those of one
        source differ in dtype or in shape beyond the first axis.

    """
    split_names = list(dict.fromkeys(item[0] for item in data))
    for name in split_names:
        lengths = [len(item[2]) for item in data if item[0] == name]
        if any(length != lengths[0] for length in lengths):
            raise ValueError(
                f"split '{name}' has sources that vary in length "
                f"({lengths}); give each source of a split the same number "
                "of examples")
    split_dict = {name: {} for name in split_names}
    for name in dict.fromkeys(item[1] for item in data):
        splits = [item for item in data if item[1] == name]
        arrays = [numpy.asarray(item[2]) for item in splits]
        if any(array.dtype != arrays[0].dtype for array in arrays):
            raise ValueError(
                f"source '{name}' has splits that vary in dtype "
                f"({[str(a.dtype) for a in arrays]}); convert them to one "
                "dtype")
        if any(array.shape[1:] != arrays[0].shape[1:] for array in arrays):
            raise ValueError(
                f"source '{name}' has splits that vary in shapes "
                f"({[a.shape for a in arrays]}); all but the first axis "
                "must agree")
        dataset = h5file.create_dataset(
            name, (sum(len(array) for array in arrays),) + arrays[0].shape[1:],
            dtype=arrays[0].dtype)
        start = 0
        for item, array in zip(splits, arrays):
            stop = start + len(array)
            dataset[start:stop] = array
            if len(item) == 4:
                split_dict[item[0]][name] = (start, stop, None, item[3])
            else:
                split_dict[item[0]][name] = (start, stop)
            start = stop
    h5file.attrs['split'] = H5PYDataset.create_split_array(split_dict)


def set_axis_labels(h5file: h5py.File,
                    axis_labels: dict[str, tuple[str, ...]]) -> None:
    """Label the dimensions of the sources named in ``axis_labels``."""
    for source, labels in axis_labels.items():
        for dim, label in zip(h5file[source].dims, labels, strict=True):
            dim.label = label


@contextlib.contextmanager
def atomic_hdf5_file(path: str) -> Iterator[h5py.File]:
    """Write an HDF5 file atomically.

    The file is written under a temporary name in the same directory,
    synced, then renamed to ``path``
    (:func:`blocks.serialization.atomic.atomic_write`); on error nothing is
    left behind.

    """
    with atomic_write(path) as file_, h5py.File(file_, mode='w') as h5file:
        yield h5file
        for key, value in (extra_file_attributes.get() or {}).items():
            h5file.attrs[key] = value


@contextlib.contextmanager
def progress_bar(name: str, maxval: int, prefix: str = 'Converting'
                 ) -> Iterator[Any]:
    """A progressbar2 bar labelled ``'<prefix> <name>: '``, finished on
    exit."""
    import progressbar
    widgets = [f'{prefix} {name}: ', progressbar.Percentage(), ' ',
               progressbar.Bar(marker='=', left='[', right=']'), ' ',
               progressbar.ETA()]
    bar = progressbar.ProgressBar(widgets=widgets, max_value=maxval,
                                  fd=sys.stdout).start()
    try:
        yield bar
    finally:
        bar.update(maxval)
        bar.finish()
