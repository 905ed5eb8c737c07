"""Durable, atomic file writes.

A file written through :func:`atomic_write` is first written to a temporary
file in the target directory, flushed and fsynced, and then renamed over the
target with :func:`os.replace`; the directory is fsynced last so that the
rename itself survives a crash. A process killed at any point leaves either
the previous file or the new one, never a mix.
"""
import contextlib
import os
import shutil
import tempfile

#: Prefix and suffix of the temporary files; a process killed while
#: writing ``model.tar`` leaves ``.model.tar.<random>.tmp`` next to it.
TEMP_SUFFIX = '.tmp'

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


def _temp_prefix(path) -> str:
    return '.' + os.path.basename(path) + '.'


def fsync_directory(directory) -> None:
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


def check_destination(path) -> None:
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


@contextlib.contextmanager
def atomic_write(path):
    """Write ``path`` atomically and durably.

    Yields a binary file open for reading and writing, created in the
    directory of ``path``. When the ``with`` block ends without error the
    file is flushed, fsynced and renamed to ``path``; on error it is
    removed and ``path`` is left as it was.

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
    try:
        temp = tempfile.NamedTemporaryFile(
            mode='w+b', dir=directory, prefix=_temp_prefix(path),
            suffix=TEMP_SUFFIX, delete=False)
    except FileNotFoundError as exc:
        raise FileNotFoundError(missing_directory_message.format(
            path=path, directory=directory)) from exc
    try:
        # Yield the real file object rather than the wrapper: every write
        # through the wrapper costs an attribute lookup.
        yield temp.file
        temp.flush()
        os.fsync(temp.fileno())
        temp.close()
        os.chmod(temp.name, FILE_MODE)
        os.replace(temp.name, path)
    except BaseException:
        temp.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp.name)
        raise
    fsync_directory(directory)


def copy_file(source, destination) -> None:
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


def _sendfile(source_file, destination_file) -> None:
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
