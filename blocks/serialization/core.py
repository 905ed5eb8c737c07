"""Writing and reading checkpoints: a tar archive of pickles and arrays.

Members of the archive:

``_parameters``
    A ``numpy.savez`` archive with one array per parameter, keyed by the
    parameter's brick path with ``/`` replaced by ``|``
    (``'|mlp|linear_0.W'``). Written first.
``_pkl``
    The pickled object (usually the main loop). Arrays of the parameters
    are not in the pickle: they are replaced by persistent ids that point
    into ``_parameters``.
any other name
    An object added with :func:`add_to_dump` (e.g. the log), pickled the
    same way.
"""
import logging
import os
import pickle
import tarfile
import zipfile
from contextlib import closing

import numpy

from blocks.serialization.atomic import atomic_write
from blocks.serialization.names import (SERIALIZATION_BRICK_DELIMITER,
                                        _mangle_parameter_name, _Renamer)
from blocks.serialization.pickling import (DEFAULT_PROTOCOL,
                                           _PersistentLoad,
                                           _PicklerWithWarning, _SaveObject)
from blocks.serialization.npz import open_npz, write_npz
from blocks.serialization.tar import (CorruptCheckpointError, _taradd,
                                      file_name, get_member, open_archive,
                                      open_member, truncated_message)

logger = logging.getLogger(__name__)

#: Names reserved for the members written by :func:`dump`.
RESERVED_NAMES = ('_pkl', '_parameters')

#: Errors that reading a truncated or damaged member raises.
_CORRUPTION_ERRORS = (EOFError, pickle.UnpicklingError, tarfile.TarError,
                      zipfile.BadZipFile)


def _named_parameters(parameters):
    """``{name in the checkpoint: parameter}``, in the order given."""
    renamer = _Renamer()
    return {renamer(parameter): parameter for parameter in parameters}


def dump(object_, file_, parameters=None, use_cpickle: bool = False,
         protocol: int = DEFAULT_PROTOCOL, **kwargs) -> None:
    r"""Pickle an object and the values of parameters to a tar archive.

    The values of ``parameters`` are written as a ``numpy.savez`` archive
    (member ``_parameters``); wherever the pickled object refers to one of
    these arrays, the pickle holds a reference to the archive instead of a
    copy. The values can therefore be read without unpickling anything
    (:func:`load_parameters`), and are stored once.

    Parameters
    ----------
    object\_ : object or None
        The object to pickle (member ``_pkl``). ``None`` writes only the
        parameters.
    file\_ : file
        A binary file open for writing, seekable.
    parameters : list of shared variables, optional
        The parameters to save separately.
    use_cpickle : bool
        Use the C pickler, which is faster. By default the pure-Python
        pickler is used, which warns when a function or class defined in
        ``__main__`` is pickled (resuming would then need that script).
    protocol : int
        The pickle protocol.
    \*\*kwargs
        Passed to the pickler.

    Examples
    --------
    >>> import io, numpy, pytensor
    >>> weights = pytensor.shared(numpy.ones(3), name='W')
    >>> file_ = io.BytesIO()
    >>> dump({'weights': weights, 'step': 7}, file_, parameters=[weights])
    >>> loaded = load(file_)
    >>> loaded['step'], loaded['weights'].get_value()
    (7, array([1., 1., 1.]))
    >>> file_.seek(0)
    0
    >>> load_parameters(file_)
    {'W': array([1., 1., 1.])}
    """
    pickler = pickle.Pickler if use_cpickle else _PicklerWithWarning
    with closing(tarfile.TarFile(fileobj=file_, mode='w')) as tar_file:
        external_objects = {}
        if parameters:
            arrays = {}
            for name, parameter in _named_parameters(parameters).items():
                # Host copy of a device array (JAX backend); NumPy as is.
                array_ = parameter.container.storage[0] = numpy.asarray(
                    parameter.container.storage[0])
                arrays[name] = array_
                external_objects[id(array_)] = _mangle_parameter_name(
                    parameter, name)
            _taradd(lambda fileobj: write_npz(fileobj, arrays), tar_file,
                    '_parameters')
        if object_ is not None:
            save_object = _SaveObject(pickler, object_, external_objects,
                                      protocol, member='_pkl', **kwargs)
            _taradd(save_object, tar_file, '_pkl')


def secure_dump(object_, path, dump_function=dump, **kwargs) -> None:
    r"""Dump to ``path`` atomically: all or nothing, even if killed.

    The dump is written to a temporary file in the directory of ``path``
    (named ``.<file name>.<random>.tmp``), flushed and fsynced, then
    renamed to ``path``. If anything fails the temporary file is removed
    and the previous file at ``path``, if any, is left untouched; a process
    killed while writing leaves the previous file intact and a stray
    temporary file.

    Parameters
    ----------
    object\_ : object
        The object to save.
    path : str or path-like
        The destination.
    dump_function : callable
        Called as ``dump_function(object_, file_, **kwargs)``.
    \*\*kwargs
        Passed to ``dump_function``.
    """
    logger.debug("Dumping object to a temporary file")
    with atomic_write(path) as file_:
        dump_function(object_, file_, **kwargs)
    logger.debug("Dump finished")


def _open_npz(tar_file, file_):
    """The ``_parameters`` member as a :class:`numpy.lib.npyio.NpzFile`."""
    member = get_member(tar_file, '_parameters', file_)
    try:
        return open_npz(tar_file, member, file_)
    except (*_CORRUPTION_ERRORS, ValueError) as exc:
        raise CorruptCheckpointError(truncated_message.format(
            file=file_name(file_), what="the member '_parameters' is not "
            "a readable numpy archive", error=exc)) from exc


def _read_arrays(npz_file, file_):
    """All arrays of ``npz_file``, with corruption reported clearly."""
    arrays = {}
    for name in npz_file.files:
        try:
            arrays[name] = npz_file[name]
        except (*_CORRUPTION_ERRORS, ValueError) as exc:
            if 'allow_pickle=False' in str(exc):
                raise ValueError(
                    f"{file_name(file_)}: the parameter {name!r} is an array "
                    f"of Python objects, and reading it would unpickle, "
                    f"which load_parameters never does (allow_pickle=False)"
                ) from exc
            raise CorruptCheckpointError(truncated_message.format(
                file=file_name(file_), what=f"the array {name!r} of the "
                f"member '_parameters' cannot be read", error=exc)) from exc
    return arrays


class _ParameterLoader(_PersistentLoad):
    """:class:`_PersistentLoad` naming the file when an id is dangling."""

    def __init__(self, tar_file, file_):
        super().__init__(lambda: _open_npz(tar_file, file_))

    def __call__(self, id_):
        try:
            return super().__call__(id_)
        except KeyError as exc:
            raise pickle.UnpicklingError(
                f"the pickle refers to the array {id_!r}, which is not in "
                f"the member '_parameters'") from exc


def load(file_, name: str = '_pkl', use_cpickle: bool = False, **kwargs):
    r"""Load an object from a checkpoint written by :func:`dump`.

    .. warning::

       Loading unpickles, and unpickling runs code named in the file: load
       only checkpoints you trust. :func:`load_parameters` reads only
       arrays and is safe.

    Parameters
    ----------
    file\_ : file
        The checkpoint, open for reading in binary mode. Read from its
        start (it is sought to position 0).
    name : str
        The member to load: ``'_pkl'`` (the object given to :func:`dump`)
        or a name given to :func:`add_to_dump` (``'log'``).
    use_cpickle : bool
        Kept for compatibility: the C unpickler is always used.
    \*\*kwargs
        Passed to the unpickler (e.g. ``encoding``).

    Raises
    ------
    KeyError
        If the checkpoint has no member ``name``.
    CorruptCheckpointError
        A :class:`tarfile.ReadError`: if the file is not a checkpoint or is
        truncated.
    """
    file_.seek(0)
    with closing(open_archive(file_)) as tar_file:
        member = get_member(tar_file, name, file_)
        try:
            unpickler = pickle.Unpickler(
                open_member(tar_file, member, file_), **kwargs)
            if '_parameters' in tar_file.getnames():
                unpickler.persistent_load = _ParameterLoader(tar_file, file_)
            return unpickler.load()
        except _CORRUPTION_ERRORS as exc:
            if isinstance(exc, CorruptCheckpointError):
                raise
            raise CorruptCheckpointError(truncated_message.format(
                file=file_name(file_),
                what=f"the member {name!r} cannot be unpickled",
                error=exc)) from exc


def _load_parameters_npzfile(file_):
    """The ``_parameters`` member of the checkpoint at ``file_``'s position."""
    tar_file = open_archive(file_)
    return _open_npz(tar_file, file_)


def load_parameters(file_) -> dict:
    r"""Load the parameter values of a checkpoint, without unpickling.

    Only the ``_parameters`` member is read, with
    ``numpy.load(allow_pickle=False)``: this is safe on files you do not
    trust.

    Parameters
    ----------
    file\_ : file
        The checkpoint, open for reading in binary mode. Read from its
        current position (it is not sought to 0, unlike :func:`load`).

    Returns
    -------
    dict
        Parameter name -> array, names as the keys of
        :meth:`~blocks.model.Model.get_parameter_dict`
        (``'/mlp/linear_0.W'``); dtypes as saved.

    Raises
    ------
    KeyError
        If the checkpoint has no parameters.
    CorruptCheckpointError
        A :class:`tarfile.ReadError`: if the file is not a checkpoint or is
        truncated.
    """
    # The bricks import PyTensor: only needed here, not at import time.
    from blocks.bricks.base import BRICK_DELIMITER
    with closing(_load_parameters_npzfile(file_)) as npz_file:
        arrays = _read_arrays(npz_file, file_)
    return {name.replace(SERIALIZATION_BRICK_DELIMITER, BRICK_DELIMITER):
            value for name, value in arrays.items()}


def add_to_dump(object_, file_, name: str, parameters=None,
                use_cpickle: bool = False, protocol: int = DEFAULT_PROTOCOL,
                **kwargs) -> None:
    r"""Add an object to an existing checkpoint, as the member ``name``.

    Parameters
    ----------
    object\_ : object
        The object to add.
    file\_ : file
        The checkpoint, open for reading and writing in binary mode.
    name : str
        The member name (not ``'_pkl'`` or ``'_parameters'``).
    parameters : list of shared variables, optional
        Parameters already in the checkpoint's ``_parameters``: their
        values are referenced instead of being pickled again. All must be
        in the checkpoint.
    use_cpickle : bool
        See :func:`dump`.
    protocol : int
        The pickle protocol.
    \*\*kwargs
        Passed to the pickler.
    """
    if name in RESERVED_NAMES:
        raise ValueError(
            f"_pkl and _parameters are reserved names and can't be used as "
            f"name for your object, got {name!r}")
    external_parameters = {}
    if parameters is not None:
        named_parameters = _named_parameters(parameters)
        external_parameters = {
            id(parameter.container.storage[0]):
            _mangle_parameter_name(parameter, parameter_name)
            for parameter_name, parameter in named_parameters.items()}
        file_.seek(0)
        tar_file = open_archive(file_)
        if '_parameters' not in tar_file.getnames():
            raise ValueError(
                f"There is no parameters in the archive {file_name(file_)}, "
                f"so you can't use the argument parameters (members: "
                f"{tar_file.getnames()})")
        with closing(_open_npz(tar_file, file_)) as npz_file:
            saved = set(npz_file.files)
        missing = [n for n in named_parameters if n not in saved]
        if missing:
            raise ValueError(
                f"The set of parameters is different from the one in the "
                f"archive: {missing} are not in it; it has {sorted(saved)}")
    pickler = pickle.Pickler if use_cpickle else _PicklerWithWarning
    file_.seek(0)
    with closing(tarfile.TarFile(fileobj=file_, mode='a')) as tar_file:
        save_object = _SaveObject(pickler, object_, external_parameters,
                                  protocol, root=name, member=name,
                                  **kwargs)
        _taradd(save_object, tar_file, name)


def dump_and_add_to_dump(object_, file_, parameters=None, to_add=None,
                         use_cpickle: bool = False,
                         protocol: int = DEFAULT_PROTOCOL, **kwargs) -> None:
    r"""Calls both `dump` and `add_to_dump` to serialze several objects.

    This function is used to serialize several at the same time, using
    persistent ID. Its main advantage is that it can be used with
    `secure_dump`.

    Parameters
    ----------
    object\_ : object
        The object to pickle (member ``_pkl``), or ``None``.
    file\_ : file
        The file to write to, open for reading and writing.
    parameters : list, optional
        Shared variables whose values are saved separately.
    to_add : dict of objects
        Member name -> object, each added with :func:`add_to_dump`.
    use_cpickle : bool
        See :func:`dump`.
    protocol : int
        The pickle protocol.
    \*\*kwargs
        Passed to the pickler.
    """
    dump(object_, file_, parameters=parameters, use_cpickle=use_cpickle,
         protocol=protocol, **kwargs)
    if to_add is not None:
        for name, obj in to_add.items():
            add_to_dump(obj, file_, name, parameters=parameters,
                        use_cpickle=use_cpickle, protocol=protocol, **kwargs)


def load_main_loop(path):
    """Load the main loop of the checkpoint at ``path`` (unpickles it)."""
    from blocks.config import config
    from blocks.utils.utils import change_recursion_limit
    with change_recursion_limit(config.recursion_limit):
        with open(path, 'rb') as file_:
            return load(file_)


#: Logged when the main loop resumed was saved after training finished.
finished_message = (
    "{path} was saved after training had finished: training goes on past "
    "its end (triggers such as FinishAfter(after_n_epochs=n) that already "
    "fired do not fire again). Stop it with a new condition, or start "
    "afresh.")


def warn_if_finished(main_loop, path) -> None:
    """Warn that resuming a finished training continues past its end."""
    log = getattr(main_loop, 'log', None)
    if log is not None and log.current_row.get('training_finished'):
        logger.warning(finished_message.format(path=os.fspath(path)))


def continue_training(path) -> None:
    """Continues training using checkpoint.

    Loads the main loop pickled in the checkpoint (which unpickles: only
    for files you trust) and calls its ``run()`` method, which resumes
    where the checkpoint was taken.

    Parameters
    ----------
    path : str
        Path to checkpoint.
    """
    main_loop = load_main_loop(path)
    warn_if_finished(main_loop, path)
    main_loop.run()
