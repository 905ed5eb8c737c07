"""Checkpoints: a tar archive with the pickled main loop and parameters.

The code lives in the submodules; this package re-exports their names so
that ``from blocks.serialization import dump, load`` works, including the
names of the original module (``BRICK_DELIMITER``, the private helpers).
"""
from typing import Any

from blocks.serialization.atomic import atomic_write, copy_file
from blocks.serialization.core import RESERVED_NAMES
from blocks.serialization.core import \
    _load_parameters_npzfile as _load_parameters_npzfile
from blocks.serialization.core import (add_to_dump, continue_training, dump,
                                       dump_and_add_to_dump, load,
                                       load_main_loop, load_parameters,
                                       secure_dump)
from blocks.serialization.names import _ARRAY_TYPE_MAP as _ARRAY_TYPE_MAP
from blocks.serialization.names import \
    _INVERSE_ARRAY_TYPE_MAP as _INVERSE_ARRAY_TYPE_MAP
from blocks.serialization.names import SERIALIZATION_BRICK_DELIMITER
from blocks.serialization.names import \
    _mangle_parameter_name as _mangle_parameter_name
from blocks.serialization.names import \
    _recreate_numpy_ndarray as _recreate_numpy_ndarray
from blocks.serialization.names import _Renamer as _Renamer
from blocks.serialization.names import \
    _unmangle_parameter_name as _unmangle_parameter_name
from blocks.serialization.pickling import (DEFAULT_PROTOCOL,
                                           MAIN_MODULE_WARNING,
                                           UnpicklableError,
                                           find_unpicklable)
from blocks.serialization.pickling import _PersistentID as _PersistentID
from blocks.serialization.pickling import _PersistentLoad as _PersistentLoad
from blocks.serialization.pickling import \
    _PicklerWithWarning as _PicklerWithWarning
from blocks.serialization.pickling import _SaveObject as _SaveObject
from blocks.serialization.tar import CorruptCheckpointError
from blocks.serialization.tar import _taradd as _taradd
from blocks.serialization.writer import CheckpointWriter

__all__ = ['BRICK_DELIMITER', 'CheckpointWriter', 'CorruptCheckpointError',
           'DEFAULT_PROTOCOL', 'MAIN_MODULE_WARNING', 'RESERVED_NAMES',
           'SERIALIZATION_BRICK_DELIMITER', 'UnpicklableError',
           'add_to_dump', 'atomic_write', 'continue_training', 'copy_file',
           'dump', 'dump_and_add_to_dump', 'find_unpicklable', 'load',
           'load_main_loop', 'load_parameters', 'secure_dump']

def __getattr__(name: str) -> Any:
    # BRICK_DELIMITER comes from the bricks, which import PyTensor: only
    # when asked for, so that reading parameters does not need PyTensor.
    if name == 'BRICK_DELIMITER':
        from blocks.bricks.base import BRICK_DELIMITER
        return BRICK_DELIMITER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
