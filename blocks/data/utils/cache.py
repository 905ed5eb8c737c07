"""Copying data files to a local (faster) directory before use."""
import os

from blocks.data import config
from blocks.data.exceptions import ConfigurationError
from blocks.serialization.atomic import copy_file


def cache_file(filename: str) -> str:
    """Return the path to read ``filename`` from.

    With ``config.local_data_path`` empty (the default) that is ``filename``
    itself. Otherwise the file is copied once under ``local_data_path``,
    keeping its path relative to the data path entry that holds it (or its
    base name), and the copy's path is returned. The copy is written
    atomically (:func:`blocks.serialization.atomic.copy_file`), so a partial
    copy is never used.

    """
    local_data_path = config.local_data_path
    if not local_data_path:
        return filename
    local_data_path = os.path.expanduser(os.path.expandvars(local_data_path))
    relative = os.path.basename(filename)
    source = os.path.realpath(filename)
    try:
        data_paths = config.data_path
    except ConfigurationError:
        data_paths = []
    for path in data_paths:
        path = os.path.realpath(os.path.expanduser(os.path.expandvars(path)))
        if source.startswith(path + os.sep):
            relative = os.path.relpath(source, path)
            break
    target = os.path.join(local_data_path, relative)
    if os.path.realpath(target) == source or os.path.isfile(target):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    copy_file(filename, target)
    return target
