"""Streaming members into, and out of, the checkpoint's tar archive.

The original wrote every member to a temporary file first and then copied it
into the archive. Here a member is written in place: a header with a
placeholder size, the content streamed straight from the arrays' memory,
then the header rewritten with the real size. This needs a seekable file,
which checkpoints always are.
"""
import io
import os
import tarfile
import time
import zlib
from collections.abc import Callable
from typing import IO, Any, Literal

#: Every member header is written in the GNU format: its length depends on
#: the member's name only, not on its size (sizes of 8 GiB and more are
#: stored in base 256 in the same field), so it can be rewritten in place.
#: Any tar reader, Python's included, reads it.
MEMBER_FORMAT: Literal[1] = tarfile.GNU_FORMAT

not_a_checkpoint_message = (
    "{file} is not a checkpoint: it is not a tar archive ({error}). "
    "Checkpoints are written by blocks.serialization.dump and "
    "blocks.extensions.saveload.Checkpoint.")

truncated_message = (
    "{file} is truncated or corrupt: {what} ({error}). If it was being "
    "written when the process stopped, use the previous checkpoint; files "
    "written by Checkpoint are replaced atomically, so this should only "
    "happen to a file copied or written by other means.")

missing_member_message = (
    "{file} has no member {name!r}; its members are {members}. {hint}")

_MEMBER_HINTS = {
    '_pkl': ("The main loop is missing: the checkpoint was saved with "
             "save_main_loop=False, or the main loop could not be pickled, "
             "or the file is truncated. Its parameters can still be read "
             "with load_parameters."),
    '_parameters': ("The parameters are missing: the checkpoint was saved "
                    "without parameters (no model and no `parameters` "
                    "argument), or the file is truncated."),
}


class CorruptCheckpointError(tarfile.ReadError):
    """A checkpoint that cannot be read: not a tar file, truncated, corrupt.

    A subclass of :class:`tarfile.ReadError`, which the original raised
    for these files.
    """


def file_name(file_: Any) -> str:
    """A name for ``file_`` in error messages."""
    name = getattr(file_, 'name', None)
    if isinstance(name, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(name))
    return repr(file_)


def _seek_target(offset: int, whence: int, position: int, size: int) -> int:
    """The position, from the start of a member, that a seek goes to."""
    if whence == io.SEEK_CUR:
        offset += position
    elif whence == io.SEEK_END:
        offset += size
    elif whence != io.SEEK_SET:
        raise ValueError(f"invalid whence ({whence})")
    if offset < 0:
        raise ValueError(f"negative seek position {offset}")
    return offset


class _MemberWriter:
    """A file-like window on an archive, starting at a member's data.

    Positions are relative to the start of the member, so that a zip
    archive written through it is the same as one written to its own file.
    Keeps the CRC-32 of what was written, as long as it was written in
    order (:attr:`crc` is ``None`` once a write went back), leaving out
    what is written while :attr:`checksum_paused` is true (data that has a
    checksum of its own).
    """

    def __init__(self, fileobj: IO[bytes], start: int) -> None:
        self._fileobj = fileobj
        self._start = start
        self._position = 0
        self.size = 0
        self._crc: int | None = 0
        self.checksum_paused = False

    @property
    def crc(self) -> int | None:
        """The CRC-32 of the member, if it was written in order."""
        return self._crc

    def write(self, data: Any) -> int:
        self._fileobj.write(data)
        n = data.nbytes if isinstance(data, memoryview) else len(data)
        if self._crc is not None:
            if self._position != self.size:
                self._crc = None
            elif not self.checksum_paused:
                self._crc = zlib.crc32(data, self._crc)
        self._position += n
        if self._position > self.size:
            self.size = self._position
        return n

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        offset = _seek_target(offset, whence, self._position, self.size)
        self._fileobj.seek(self._start + offset)
        self._position = offset
        return offset

    def flush(self) -> None:
        self._fileobj.flush()

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # numpy.savez only checks that the attribute exists, to tell files
        # from paths.
        raise io.UnsupportedOperation("read")


def _member_crc(fileobj: IO[bytes], start: int, size: int) -> int | None:
    """The CRC-32 of ``size`` bytes at ``start``, read back (or ``None``)."""
    try:
        fileobj.seek(start)
        crc, remaining = 0, size
        while remaining:
            chunk = fileobj.read(min(remaining, 1 << 20))
            if not chunk:
                return None
            crc = zlib.crc32(chunk, crc)
            remaining -= len(chunk)
    except (OSError, ValueError):
        return None
    return crc


def _taradd(func: Callable[[Any], Any], tar_file: tarfile.TarFile,
            name: str) -> int | None:
    """Add a member ``name`` whose content ``func(fileobj)`` writes.

    Parameters
    ----------
    func : callable
        Called with a binary, seekable, write-only file object.
    tar_file : :class:`tarfile.TarFile`
        An archive open for writing (``'w'`` or ``'a'``).
    name : str
        The member name.

    Returns
    -------
    int or None
        The CRC-32 of the member's content; ``None`` if it was not written
        in order and the file cannot be read back.
    """
    tar_file._check('awx')  # type: ignore[attr-defined]
    fileobj: Any = tar_file.fileobj
    assert fileobj is not None
    header_position = tar_file.offset
    info = tarfile.TarInfo(name)
    info.mtime = int(time.time())
    info.mode = 0o644
    header = info.tobuf(MEMBER_FORMAT, tar_file.encoding, tar_file.errors)
    fileobj.seek(header_position)
    fileobj.write(header)
    data_position = header_position + len(header)
    writer = _MemberWriter(fileobj, data_position)
    func(writer)
    info.size = writer.size
    crc = writer.crc
    if crc is None:
        crc = _member_crc(fileobj, data_position, info.size)
    final_header = info.tobuf(MEMBER_FORMAT, tar_file.encoding,
                              tar_file.errors)
    if len(final_header) != len(header):
        raise AssertionError("tar header changed length")
    fileobj.seek(header_position)
    fileobj.write(final_header)
    end = data_position + info.size
    fileobj.seek(end)
    padding = -info.size % tarfile.BLOCKSIZE
    if padding:
        fileobj.write(tarfile.NUL * padding)
    info.offset = header_position
    info.offset_data = data_position
    tar_file.offset = end + padding
    tar_file.members.append(info)  # type: ignore[attr-defined]
    return crc


class _MemberReader(io.RawIOBase):
    """A read-only file on one member of an archive on disk.

    Reads go straight to the archive's file, without the extra copy of
    :meth:`tarfile.TarFile.extractfile`.
    """

    def __init__(self, fileobj: Any, start: int, size: int) -> None:
        super().__init__()
        self._fileobj = fileobj
        self._start = start
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = _seek_target(offset, whence, self._position,
                                      self._size)
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast('B')
        n = max(0, min(len(view), self._size - self._position))
        if n == 0:
            return 0
        self._fileobj.seek(self._start + self._position)
        read = self._fileobj.readinto(view[:n])
        if read is None:
            read = 0
        if read < n:
            raise EOFError(
                f"unexpected end of file: {n - read} of the "
                f"{self._size} bytes of the member are missing")
        self._position += read
        return read

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._size - self._position)
        if size is None or size < 0 or size > remaining:
            size = remaining
        buffer = bytearray(size)
        n = self.readinto(buffer)
        del buffer[n:]
        return bytes(buffer)

    def readall(self) -> bytes:
        return self.read()


def is_real_file(fileobj: Any) -> bool:
    """Whether ``fileobj`` is a file on disk (that can be read into)."""
    if not hasattr(fileobj, 'readinto') or not hasattr(fileobj, 'fileno'):
        return False
    try:
        fileobj.fileno()
    except (OSError, io.UnsupportedOperation):
        return False
    return True


def check_member_size(member: tarfile.TarInfo, fileobj: Any) -> None:
    """Raise :class:`EOFError` if the file ends before ``member`` does."""
    end = member.offset_data + member.size
    file_size = os.fstat(fileobj.fileno()).st_size
    if file_size < end:
        raise EOFError(
            f"the member {member.name!r} is {member.size} bytes long, but "
            f"the file ends {end - file_size} bytes before its end")


def open_member(tar_file: tarfile.TarFile, member: tarfile.TarInfo,
                fileobj: Any) -> IO[bytes] | None:
    """A file object for the content of ``member``.

    When ``fileobj`` is a real file, read it directly (see
    :class:`_MemberReader`); otherwise fall back to
    :meth:`tarfile.TarFile.extractfile`.
    """
    if is_real_file(fileobj):
        check_member_size(member, fileobj)
        return io.BufferedReader(
            _MemberReader(fileobj, member.offset_data, member.size),
            buffer_size=1024 * 1024)
    return tar_file.extractfile(member)


def open_archive(file_: Any) -> tarfile.TarFile:
    """Open the tar archive at the current position of ``file_``.

    Raises
    ------
    CorruptCheckpointError
        If ``file_`` is not a tar archive or its member headers are
        truncated.
    """
    start = file_.tell()
    try:
        tar_file = tarfile.TarFile(fileobj=file_, mode='r')
        # Read all headers now, so that truncation is found here.
        tar_file.getmembers()
    except (tarfile.TarError, EOFError) as exc:
        if 'unexpected end' in str(exc):
            message = truncated_message.format(
                file=file_name(file_), error=exc,
                what="the archive ends in the middle of a member")
        elif _looks_like_a_tar_header(file_, start):
            message = (f"{file_name(file_)} is corrupt: the header of its "
                       f"first member is damaged ({exc}). The file was "
                       f"changed after it was written; use another "
                       f"checkpoint.")
        else:
            message = not_a_checkpoint_message.format(
                file=file_name(file_), error=exc)
        raise CorruptCheckpointError(message) from exc
    return tar_file


def _looks_like_a_tar_header(file_: Any, start: int) -> bool:
    """Whether the block at ``start`` has the magic of a tar header."""
    try:
        file_.seek(start)
        block = file_.read(tarfile.BLOCKSIZE)
    except (OSError, ValueError):
        return False
    return block[257:262] == b'ustar'


def get_member(tar_file: tarfile.TarFile, name: str,
               file_: Any) -> tarfile.TarInfo:
    """The member ``name`` of ``tar_file``.

    Raises
    ------
    KeyError
        If there is no such member (a :class:`KeyError`, as the original's
        ``tarfile`` raised), with a message naming the file and its members.
    """
    try:
        return tar_file.getmember(name)
    except KeyError:
        members = tar_file.getnames()
        raise KeyError(missing_member_message.format(
            file=file_name(file_), name=name,
            members=', '.join(map(repr, members)) or 'none',
            hint=_MEMBER_HINTS.get(name, ''))) from None
