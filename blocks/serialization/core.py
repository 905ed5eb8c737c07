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
import io
import logging
import os
import pickle
import tarfile
import zipfile
from collections.abc import Callable, Iterable
from contextlib import closing
from typing import IO, Any

import numpy

from blocks.serialization.atomic import atomic_write
from blocks.serialization.checksums import (CHECKSUMS_MEMBER, add_checksums,
                                            check_archive_layout, check_crc,
                                            corrupt_member_message,
                                            read_checksums)
from blocks.serialization.names import (SERIALIZATION_BRICK_DELIMITER,
                                        _mangle_parameter_name, _Renamer)
from blocks.serialization.pickling import (DEFAULT_PROTOCOL,
                                           _PersistentLoad,
                                           _PicklerWithWarning, _SaveObject)
from blocks.serialization.npz import NpzReader, write_npz
from blocks.serialization.tar import (CorruptCheckpointError, _taradd,
                                      check_member_size, file_name,
                                      get_member, is_real_file, open_archive,
                                      open_member, truncated_message)

logger = logging.getLogger(__name__)

#: Names reserved for the members written by :func:`dump`.
RESERVED_NAMES = ('_pkl', '_parameters')

#: Type of the parameters arguments: shared variables.
Parameters = Iterable[Any] | None

#: Errors that reading a truncated or damaged member raises.
_CORRUPTION_ERRORS = (EOFError, pickle.UnpicklingError, tarfile.TarError,
                      zipfile.BadZipFile)


no_parameters_message = (
    "There is no parameters in the archive {file}, so you can't use the "
    "argument parameters (members: {members})")


def _check_member_name(name: str) -> None:
    if name in RESERVED_NAMES:
        raise ValueError(
            f"_pkl and _parameters are reserved names and can't be used as "
            f"name for your object, got {name!r}")
    if name == CHECKSUMS_MEMBER:
        raise ValueError(f"{name!r} is reserved for the checksums of the "
                         f"members; choose another name")


def _named_parameters(parameters: Iterable[Any]) -> dict[str, Any]:
    """``{name in the checkpoint: parameter}``, in the order given."""
    renamer = _Renamer()
    return {renamer(parameter): parameter for parameter in parameters}


def dump(object_: Any, file_: IO[bytes], parameters: Parameters = None,
         use_cpickle: bool = False, protocol: int = DEFAULT_PROTOCOL,
         **kwargs: Any) -> None:
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
    _dump(object_, file_, parameters, None, use_cpickle, protocol, kwargs)


def _dump(object_: Any, file_: IO[bytes], parameters: Parameters,
          to_add: dict[str, Any] | None, use_cpickle: bool, protocol: int,
          kwargs: dict[str, Any]) -> None:
    """:func:`dump`, then the members ``to_add``, then the checksums."""
    pickler = pickle.Pickler if use_cpickle else _PicklerWithWarning
    with closing(tarfile.TarFile(fileobj=file_, mode='w')) as tar_file:
        external_objects: dict[int, str] = {}
        crcs: dict[str, int | None] = {}
        if parameters:
            arrays = {}
            for name, parameter in _named_parameters(parameters).items():
                # Host copy of a device array (JAX backend); NumPy as is.
                array_ = parameter.container.storage[0] = numpy.asarray(
                    parameter.container.storage[0])
                arrays[name] = array_
                external_objects[id(array_)] = _mangle_parameter_name(
                    parameter, name)
            crcs['_parameters'] = _taradd(
                lambda fileobj: write_npz(fileobj, arrays), tar_file,
                '_parameters')
        if object_ is not None:
            save_object = _SaveObject(pickler, object_, external_objects,
                                      protocol, member='_pkl', **kwargs)
            crcs['_pkl'] = _taradd(save_object, tar_file, '_pkl')
        for name, obj in (to_add or {}).items():
            _check_member_name(name)
            if parameters is not None and not parameters:
                raise ValueError(no_parameters_message.format(
                    file=file_name(file_), members=tar_file.getnames()))
            save_object = _SaveObject(pickler, obj, external_objects,
                                      protocol, root=name, member=name,
                                      **kwargs)
            crcs[name] = _taradd(save_object, tar_file, name)
        add_checksums(tar_file, crcs)


def secure_dump(object_: Any, path: str | os.PathLike[str],
                dump_function: Callable[..., Any] = dump,
                **kwargs: Any) -> None:
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


def _open_checked(file_: IO[bytes]) -> tuple[tarfile.TarFile,
                                                dict[str, int] | None]:
    """The archive at ``file_``'s position, checked, and its checksums."""
    tar_file = open_archive(file_)
    check_archive_layout(tar_file, file_)
    return tar_file, read_checksums(tar_file, file_)


def _corrupt(file_: Any, what: str, error: BaseException
             ) -> CorruptCheckpointError:
    return CorruptCheckpointError(truncated_message.format(
        file=file_name(file_), what=what, error=error))


def _read_parameters(tar_file: tarfile.TarFile, file_: IO[bytes],
                     checksums: dict[str, int] | None
                     ) -> dict[str, Any]:
    """Every array of the ``_parameters`` member, checked."""
    member = get_member(tar_file, '_parameters', file_)
    expected = None if checksums is None else checksums.get('_parameters')
    try:
        if is_real_file(file_):
            check_member_size(member, file_)
            with NpzReader(file_, member.offset_data, member.size) as npz:
                return npz.read_all(expected)
        reader = tar_file.extractfile(member)
        assert reader is not None
        data = reader.read()
        with NpzReader(io.BytesIO(data), 0, len(data)) as npz:
            return npz.read_all(expected)
    except CorruptCheckpointError:
        raise
    except ValueError as exc:
        if 'allow_pickle=False' in str(exc):
            raise ValueError(
                f"{file_name(file_)}: the member '_parameters' holds an "
                f"array of Python objects, and reading it would unpickle, "
                f"which load_parameters never does (allow_pickle=False)"
            ) from exc
        raise _corrupt(file_, "the member '_parameters' is not a readable "
                       "numpy archive", exc) from exc
    except zipfile.BadZipFile as exc:
        if 'checksum' in str(exc) or 'CRC-32' in str(exc):
            raise CorruptCheckpointError(corrupt_member_message.format(
                file=file_name(file_), name='_parameters',
                what=f"does not match its checksum ({exc})")) from exc
        raise _corrupt(file_, "the member '_parameters' is not a readable "
                       "numpy archive", exc) from exc
    except (*_CORRUPTION_ERRORS, OSError) as exc:
        raise _corrupt(file_, "the member '_parameters' cannot be read",
                       exc) from exc


class _ParameterLoader(_PersistentLoad):
    """:class:`_PersistentLoad` naming the file when an id is dangling."""

    def __init__(self, tar_file: tarfile.TarFile, file_: IO[bytes],
                 checksums: dict[str, int] | None) -> None:
        super().__init__(
            lambda: _read_parameters(tar_file, file_, checksums))

    def __call__(self, id_: Any) -> Any:
        try:
            return super().__call__(id_)
        except KeyError as exc:
            raise pickle.UnpicklingError(
                f"the pickle refers to the array {id_!r}, which is not in "
                f"the member '_parameters'") from exc


def load(file_: IO[bytes], name: str = '_pkl', use_cpickle: bool = False,
         **kwargs: Any) -> Any:
    r"""Load an object from a checkpoint written by :func:`dump`.

    .. warning::

       Loading unpickles, and unpickling runs code named in the file: load
       only checkpoints you trust. :func:`load_parameters` reads only
       arrays and is safe.

    Every member read is checked against the checksum stored with it
    before anything is unpickled. Functions compiled by
    :func:`blocks.compilation.function` are compiled again (see
    :mod:`blocks.serialization.functions`).

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
        A :class:`tarfile.ReadError`: if the file is not a checkpoint, is
        truncated, or a member does not match its checksum.
    """
    file_.seek(0)
    tar_file, checksums = _open_checked(file_)
    with closing(tar_file):
        member = get_member(tar_file, name, file_)
        reader = open_member(tar_file, member, file_)
        assert reader is not None
        try:
            data = reader.read()
        except (*_CORRUPTION_ERRORS, OSError) as exc:
            raise _corrupt(file_, f"the member {name!r} cannot be read",
                           exc) from exc
        check_crc(data, name, checksums, file_)
        try:
            unpickler = pickle.Unpickler(io.BytesIO(data), **kwargs)
            if '_parameters' in tar_file.getnames():
                unpickler.persistent_load = _ParameterLoader(  # type: ignore
                    tar_file, file_, checksums)
            return unpickler.load()
        except _CORRUPTION_ERRORS as exc:
            if isinstance(exc, CorruptCheckpointError):
                raise
            raise _corrupt(file_, f"the member {name!r} cannot be "
                           f"unpickled", exc) from exc


def _load_parameters_npzfile(file_: IO[bytes]) -> Any:
    """The ``_parameters`` member of the checkpoint at ``file_``'s position.

    As a mapping from npz key to array, read and checked.
    """
    tar_file, checksums = _open_checked(file_)
    return _read_parameters(tar_file, file_, checksums)


def load_parameters(file_: IO[bytes]) -> dict[str, Any]:
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
        A :class:`tarfile.ReadError`: if the file is not a checkpoint, is
        truncated, or does not match its checksums.
    """
    # The bricks import PyTensor: only needed here, not at import time.
    from blocks.bricks.base import BRICK_DELIMITER
    arrays = _load_parameters_npzfile(file_)
    return {name.replace(SERIALIZATION_BRICK_DELIMITER, BRICK_DELIMITER):
            value for name, value in arrays.items()}


def add_to_dump(object_: Any, file_: IO[bytes], name: str,
                parameters: Parameters = None, use_cpickle: bool = False,
                protocol: int = DEFAULT_PROTOCOL, **kwargs: Any) -> None:
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
    _check_member_name(name)
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
            raise ValueError(no_parameters_message.format(
                file=file_name(file_), members=tar_file.getnames()))
        saved = _parameter_names(tar_file, file_)
        missing = [n for n in named_parameters if n not in saved]
        if missing:
            raise ValueError(
                f"The set of parameters is different from the one in the "
                f"archive: {missing} are not in it; it has {sorted(saved)}")
    pickler = pickle.Pickler if use_cpickle else _PicklerWithWarning
    file_.seek(0)
    with closing(tarfile.TarFile(fileobj=file_, mode='a')) as tar_file:
        crcs: dict[str, int | None] = {}
        if CHECKSUMS_MEMBER in tar_file.getnames():
            crcs.update(read_checksums(tar_file, file_) or {})
        save_object = _SaveObject(pickler, object_, external_parameters,
                                  protocol, root=name, member=name,
                                  **kwargs)
        crcs[name] = _taradd(save_object, tar_file, name)
        add_checksums(tar_file, crcs)


def _parameter_names(tar_file: tarfile.TarFile, file_: IO[bytes]) -> set:
    """The npz keys of the ``_parameters`` member (without reading arrays)."""
    member = get_member(tar_file, '_parameters', file_)
    try:
        if is_real_file(file_):
            check_member_size(member, file_)
            with NpzReader(file_, member.offset_data, member.size) as npz:
                return set(npz.files)
        reader = tar_file.extractfile(member)
        assert reader is not None
        data = reader.read()
        with NpzReader(io.BytesIO(data), 0, len(data)) as npz:
            return set(npz.files)
    except (*_CORRUPTION_ERRORS, ValueError, OSError) as exc:
        raise _corrupt(file_, "the member '_parameters' is not a readable "
                       "numpy archive", exc) from exc


def dump_and_add_to_dump(object_: Any, file_: IO[bytes],
                         parameters: Parameters = None,
                         to_add: dict[str, Any] | None = None,
                         use_cpickle: bool = False,
                         protocol: int = DEFAULT_PROTOCOL,
                         **kwargs: Any) -> None:
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
    _dump(object_, file_, parameters, to_add, use_cpickle, protocol, kwargs)


def load_main_loop(path: str | os.PathLike[str]) -> Any:
    """Load the main loop of the checkpoint at ``path`` (unpickles it).

    A log kept in a file given by a relative path (``SQLiteLog('log.sqlite')``)
    is found in the run's directory (that of its
    :class:`~blocks.extensions.saveload.Checkpoint`), not in the current one.
    """
    from blocks.config import config
    from blocks.utils.utils import change_recursion_limit
    with change_recursion_limit(config.recursion_limit):
        with open(path, 'rb') as file_:
            main_loop = load(file_)
    resolve_log_file(main_loop)
    return main_loop


def log_file(log: Any) -> str | None:
    """The relative or absolute path of the file ``log`` is kept in, if any.
    """
    database = getattr(log, '__dict__', {}).get('database')
    if (not isinstance(database, str) or not database
            or database.startswith((':', 'file:', '~'))):
        return None
    return database


def resolve_log_file(main_loop: Any) -> None:
    """Make a relative path of the log's file relative to the run's directory.

    The run's directory is the ``run_directory`` of the main loop's
    extensions (every :class:`~blocks.extensions.saveload.Checkpoint` has
    one); with none, or several, nothing is changed.
    """
    database = log_file(getattr(main_loop, 'log', None))
    if database is None or os.path.isabs(database):
        return
    directories = {extension.run_directory
                   for extension in getattr(main_loop, 'extensions', ())
                   if isinstance(getattr(extension, 'run_directory', None),
                                 str)}
    if len(directories) == 1:
        main_loop.log.database = os.path.join(directories.pop(), database)


#: Logged when the main loop resumed was saved after training finished.
finished_message = (
    "{path} was saved after training had finished (iteration {iterations}, "
    "epoch {epochs}): training goes on past its end (triggers such as "
    "FinishAfter(after_n_epochs=n) that already fired do not fire again). "
    "Stop it with a new condition, or start afresh.")


#: Said instead of resuming a checkpoint whose training finished.
nothing_to_continue_message = (
    "{path} was saved after training had finished: nothing to continue. "
    "To train past its end, use {option}.")


def training_has_finished(main_loop: Any) -> bool:
    """Whether ``main_loop`` was saved after its training really finished.

    That is, an extension asked for the end (``FinishAfter``,
    ``EarlyStopping``: a ``training_finish_requested`` record). A run
    stopped by Ctrl+C or SIGTERM also ends with ``training_finished``, but
    is meant to be resumed: it has not finished.
    """
    # Imported here: the extensions import this package.
    from blocks.extensions.protocol import (TRAINING_FINISH_REQUESTED,
                                            TRAINING_FINISHED,
                                            record_notified)
    log = getattr(main_loop, 'log', None)
    if log is None:
        return False
    row = log.current_row
    return (record_notified(row, TRAINING_FINISHED)
            and record_notified(row, TRAINING_FINISH_REQUESTED))


def describe_finished(main_loop: Any, path: str | os.PathLike[str]) -> str:
    """The message saying that the checkpoint at ``path`` is finished."""
    status = main_loop.log.status
    return finished_message.format(
        path=os.fspath(path), iterations=status.get('iterations_done'),
        epochs=status.get('epochs_done'))


def warn_if_finished(main_loop: Any, path: str | os.PathLike[str]) -> None:
    """Warn that resuming a finished training continues past its end."""
    if training_has_finished(main_loop):
        logger.warning(describe_finished(main_loop, path))


def continue_training(path: str | os.PathLike[str],
                      extend: bool = False) -> None:
    """Continues training using checkpoint.

    Loads the main loop pickled in the checkpoint (which unpickles: only
    for files you trust) and calls its ``run()`` method, which resumes
    where the checkpoint was taken.

    Parameters
    ----------
    path : str
        Path to checkpoint.
    extend : bool
        A checkpoint saved after training finished (an extension such as
        ``FinishAfter`` ended it) is not run again, with a warning, unless
        ``extend`` is true: training then goes on past its end.
    """
    main_loop = load_main_loop(path)
    if training_has_finished(main_loop) and not extend:
        logger.warning(nothing_to_continue_message.format(
            path=os.fspath(path), option='extend=True'))
        return
    warn_if_finished(main_loop, path)
    main_loop.run()
