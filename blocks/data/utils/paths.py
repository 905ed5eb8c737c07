"""Locating data files and working directories."""
import contextlib
import os
from collections.abc import Iterator

from blocks.data import config

NOT_FOUND_MESSAGE = (
    "{filename} not found in Fuel's data path (searched {paths}); build it "
    "with `blocks-convert` into one of those directories, or point "
    "BLOCKS_DATA_PATH (or FUEL_DATA_PATH) at the directory that holds it")


def find_in_data_path(filename: str) -> str:
    """Return the path of ``filename`` in the first data path holding it.

    Each entry of ``config.data_path`` is ``~``- and ``$VAR``-expanded.
    Raises :class:`OSError` if no entry holds the file, and
    :class:`~blocks.data.exceptions.ConfigurationError` if the data path is
    not set.

    """
    searched = []
    for path in config.data_path:
        path = os.path.expanduser(os.path.expandvars(path))
        searched.append(path)
        file_path = os.path.join(path, filename)
        if os.path.isfile(file_path):
            return file_path
    raise OSError(NOT_FOUND_MESSAGE.format(filename=filename,
                                           paths=searched))


@contextlib.contextmanager
def remember_cwd() -> Iterator[None]:
    """Context manager restoring the current working directory on exit."""
    current = os.getcwd()
    try:
        yield
    finally:
        os.chdir(current)
