"""Checkpoints: a tar archive with the pickled main loop and parameters.

The code lives in the submodules; this package re-exports their names so
that ``from blocks.serialization import dump, load`` works.
"""
from blocks.serialization.atomic import atomic_write, copy_file
from blocks.serialization.core import (RESERVED_NAMES,
                                       _load_parameters_npzfile, add_to_dump,
                                       continue_training, dump,
                                       dump_and_add_to_dump, load,
                                       load_main_loop, load_parameters,
                                       secure_dump)
from blocks.serialization.names import (_ARRAY_TYPE_MAP,
                                        _INVERSE_ARRAY_TYPE_MAP,
                                        SERIALIZATION_BRICK_DELIMITER,
                                        _mangle_parameter_name,
                                        _recreate_numpy_ndarray, _Renamer,
                                        _unmangle_parameter_name)
from blocks.serialization.pickling import (DEFAULT_PROTOCOL,
                                           MAIN_MODULE_WARNING,
                                           _PersistentID, _PersistentLoad,
                                           _PicklerWithWarning, _SaveObject,
                                           find_unpicklable)
from blocks.serialization.tar import CorruptCheckpointError, _taradd

__all__ = ['CorruptCheckpointError', 'DEFAULT_PROTOCOL',
           'MAIN_MODULE_WARNING', 'RESERVED_NAMES',
           'SERIALIZATION_BRICK_DELIMITER', 'add_to_dump', 'atomic_write',
           'continue_training', 'copy_file', 'dump', 'dump_and_add_to_dump',
           'find_unpicklable', 'load', 'load_main_loop', 'load_parameters',
           'secure_dump']
