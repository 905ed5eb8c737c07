"""Durable, atomic file writes.

A file written through :func:`atomic_write` is first written to a temporary
file in the target directory, flushed and fsynced, and then renamed over the
target with :func:`os.replace`; the directory is fsynced last so that the
rename itself survives a crash. A process killed at any point leaves either
the previous file or the new one, never a mix.

Whatever goes wrong while writing (a full disk included), the temporary
file is removed. A process killed while writing cannot remove it: the
temporary files carry the writer's process id, and the first write of a
process to the same target removes those whose writer is gone.
"""
import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO

#: Suffix of the temporary files; a process killed while writing
#: ``model.tar`` leaves ``.model.tar.<pid>.<random>.tmp`` next to it.
TEMP_SUFFIX = '.tmp'

#: Targets whose stale temporary files this process has removed.
_swept: set[str] = set()

#: The temporary files of this module: name, writer's process id, random.
_TEMP_PATTERN = re.compile(r'^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$')

_COPY_CHUNK = 64 * 1024 * 1024

missing_directory_message = (
    "cannot write {path!r}: the directory {directory!r} does not exist. "
    "Create it before training starts (for example with "
    "os.makedirs(directory, exist_ok=True)) or choose another path.")

not_writable_message = (
    "cannot write {path!r}: the directory {directory!r} is not writable "
    "({error}). Choose a path in a directory you can write to.")


def _read_umask() -> int:
    # There is no way to read the umask without setting it; this runs once,
    # at import time.
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Permissions of files written here: those of a plain ``open(path, 'w')``
#: (the temporary file itself is created private).
FILE_MODE = 0o666 & ~_read_umask()


def _temp_prefix(path: str) -> str:
    return f'.{os.path.basename(path)}.{os.getpid()}.'


def _process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: str) -> list[str]:
    """Remove the temporary files that killed writers of ``path`` left.

    Only files named as :func:`atomic_write` names them, for this target,
    whose writing process no longer runs on this machine.

    Returns
    -------
    list of str
        The files removed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    removed: list[str] = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_PATTERN.match(entry)
        if (match is None or match['name'] != name
                or _process_is_running(int(match['pid']))):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(directory, entry))
            removed.append(os.path.join(directory, entry))
    return removed


def fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable (where the OS supports it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        # Some file systems do not support fsync on directories.
        pass
    finally:
        os.close(fd)


def check_destination(path: str | os.PathLike[str]) -> None:
    """Raise now if ``path`` could not be written later.

    Checks that the directory of ``path`` exists, that ``path`` is not a
    directory, and that a file can be created next to it (by creating and
    removing an empty temporary file, which also works for the root user,
    for whom permission bits alone say nothing).

    Raises
    ------
    FileNotFoundError
        If the directory does not exist.
    NotADirectoryError
        If the "directory" is a file.
    IsADirectoryError
        If ``path`` is a directory.
    PermissionError
        If no file can be created in the directory.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(directory):
        raise FileNotFoundError(missing_directory_message.format(
            path=path, directory=directory))
    if not os.path.isdir(directory):
        raise NotADirectoryError(
            f"cannot write {path!r}: {directory!r} is not a directory")
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"cannot write {path!r}: it is a directory; give a file name "
            f"such as {os.path.join(path, 'checkpoint.tar')!r}")
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=_temp_prefix(path),
                                    suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise PermissionError(not_writable_message.format(
            path=path, directory=directory, error=exc)) from exc
    os.close(fd)
    os.remove(name)


#: Errors of the file system while writing, reported with the target's name.
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG,
                           errno.EROFS})


def _error_naming(error: OSError, path: str) -> OSError:
    """``error`` again, with a message that names the file being written."""
    assert error.errno is not None
    strerror = error.strerror or os.strerror(error.errno)
    message = (f"{strerror} while writing {path!r}: nothing was written "
               f"there, the previous file (if any) is unchanged and the "
               f"temporary file was removed")
    if error.errno == errno.ENOSPC:
        message += "; free some space or choose another directory"
    return type(error)(error.errno, message)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically and durably.

    Yields a binary file open for reading and writing, created in the
    directory of ``path``. When the ``with`` block ends without error the
    file is flushed, fsynced and renamed to ``path``; on error it is
    removed and ``path`` is left as it was. An :class:`OSError` (a full
    disk) is raised again with a message naming ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> directory = tempfile.mkdtemp()
    >>> path = os.path.join(directory, 'numbers.txt')
    >>> with atomic_write(path) as file_:
    ...     _ = file_.write(b'1 2 3')
    >>> open(path, 'rb').read()
    b'1 2 3'
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    # Killed writers were earlier processes: once per process is enough.
    if os.path.abspath(path) not in _swept:
        remove_stale_temporaries(path)
        _swept.add(os.path.abspath(path))
    try:
        temp = tempfile.NamedTemporaryFile(
            mode='w+b', dir=directory, prefix=_temp_prefix(path),
            suffix=TEMP_SUFFIX, delete=False)
    except FileNotFoundError as exc:
        raise FileNotFoundError(missing_directory_message.format(
            path=path, directory=directory)) from exc
    except OSError as exc:
        if exc.errno in _WRITE_ERRORS:
            raise _error_naming(exc, path) from exc
        raise
    try:
        # Yield the real file object rather than the wrapper: every write
        # through the wrapper costs an attribute lookup.
        yield temp.file
        temp.flush()
        os.fsync(temp.fileno())
        temp.close()
        os.chmod(temp.name, FILE_MODE)
        os.replace(temp.name, path)
    except BaseException as exc:
        # Closing flushes what is buffered, which fails again on a full
        # disk: the file must be removed all the same.
        with contextlib.suppress(OSError):
            temp.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp.name)
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRORS:
            raise _error_naming(exc, path) from exc
        raise
    fsync_directory(directory)


def copy_file(source: str | os.PathLike[str],
              destination: str | os.PathLike[str]) -> None:
    """Copy ``source`` to ``destination`` atomically and durably.

    Used to make a second copy of a checkpoint that was just written (the
    best model so far, say) without pickling the main loop again.
    """
    with open(source, 'rb') as source_file, \
            atomic_write(destination) as destination_file:
        try:
            _sendfile(source_file, destination_file)
        except OSError:
            source_file.seek(0)
            destination_file.seek(0)
            destination_file.truncate()
            shutil.copyfileobj(source_file, destination_file, _COPY_CHUNK)


def _sendfile(source_file: IO[bytes], destination_file: IO[bytes]) -> None:
    """Copy in the kernel (no round trip of the data through Python)."""
    destination_file.flush()
    in_fd, out_fd = source_file.fileno(), destination_file.fileno()
    size = os.fstat(in_fd).st_size
    offset = 0
    while offset < size:
        sent = os.sendfile(out_fd, in_fd, offset, min(size - offset,
                                                       _COPY_CHUNK))
        if sent == 0:
            break
        offset += sent
    os.lseek(out_fd, offset, os.SEEK_SET)
    destination_file.seek(offset)
