"""The ``_parameters`` member: an uncompressed ``numpy.savez`` archive.

Written and read with the arrays' own memory as the buffer: no chunked
copies as in :func:`numpy.savez` and :func:`numpy.load`, which copy every
16 MiB (writing) or 1 MiB (reading) chunk once more. The files are the same
as ``numpy.savez`` writes, and ``numpy.load`` reads them.
"""
import contextlib
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

import numpy
from numpy.lib import format as npy_format

from blocks.serialization.tar import _MemberReader

_LOCAL_HEADER = struct.Struct('<4s22xHH')
_LOCAL_HEADER_SIGNATURE = b'PK\x03\x04'


def _as_bytes(array: numpy.ndarray) -> memoryview:
    """The memory of a C-contiguous array, as a flat byte view."""
    return array.reshape(-1).view(numpy.uint8).data


def _write_header(fileobj: Any, array: numpy.ndarray) -> None:
    header = npy_format.header_data_from_array_1_0(array)
    try:
        npy_format.write_array_header_1_0(fileobj, header)
    except ValueError:
        # The header is too long for version 1.0 (a huge structured dtype).
        npy_format.write_array_header_2_0(fileobj, header)


def _write_npy(fileobj: Any, array: Any) -> None:
    """Write ``array`` in the ``.npy`` format, straight from its memory."""
    array = numpy.asanyarray(array)
    fortran = array.flags.f_contiguous and not array.flags.c_contiguous
    data = array.T if fortran else array
    if (array.dtype.hasobject or array.dtype.names is not None
            or not type(array.dtype)._legacy or not data.flags.c_contiguous
            or array.itemsize == 0):
        npy_format.write_array(fileobj, array, allow_pickle=False)
        return
    _write_header(fileobj, array)
    if data.size:
        fileobj.write(_as_bytes(data))


class _InOrder:
    """A file that cannot seek, so that :mod:`zipfile` writes in order.

    Instead of going back to complete each member's header, the zip then
    has a data descriptor after each member, as streamed zips do; and the
    checkpoint's writer can checksum the member as it is written.
    """

    def __init__(self, fileobj: Any) -> None:
        self._fileobj = fileobj

    def write(self, data: Any) -> int:
        return self._fileobj.write(data)

    def tell(self) -> int:
        return self._fileobj.tell()

    def flush(self) -> None:
        self._fileobj.flush()

    def seekable(self) -> bool:
        return False

    def seek(self, *args: Any) -> int:
        raise io.UnsupportedOperation("seek")


@contextlib.contextmanager
def _unchecked(fileobj: Any) -> Iterator[None]:
    """Writes to ``fileobj`` that its running checksum leaves out."""
    if not hasattr(fileobj, 'checksum_paused'):
        yield
        return
    fileobj.checksum_paused = True
    try:
        yield
    finally:
        fileobj.checksum_paused = False


def write_npz(fileobj: Any, arrays: dict[str, Any]) -> None:
    """Write a ``numpy.savez`` archive (uncompressed) of ``arrays``.

    Parameters
    ----------
    fileobj : file-like
        Binary, writable, with ``tell``.
    arrays : dict
        Key -> array; the archive has one member ``<key>.npy`` each.
    """
    with zipfile.ZipFile(_InOrder(fileobj), mode='w',  # type: ignore
                         compression=zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        for key, array in arrays.items():
            # Like numpy.savez: always zip64, so that the size can be
            # anything (numpy gh-10776).
            with archive.open(key + '.npy', 'w', force_zip64=True) as member:
                # The entry has its own CRC-32 in the zip: the checksum of
                # the whole member leaves it out (see read_all).
                with _unchecked(fileobj):
                    _write_npy(member, array)


class NpzReader:
    """The arrays of a ``.npz`` archive stored in a file at an offset.

    Has the interface of :class:`numpy.lib.npyio.NpzFile` that checkpoints
    use (``files``, ``[key]``, ``close``, ``with``). Uncompressed members
    are read straight into the new array's memory and their CRC-32 is
    checked; others are read by numpy. Never unpickles: an array of Python
    objects raises :class:`ValueError`, as ``numpy.load`` does with
    ``allow_pickle=False``.

    Parameters
    ----------
    fileobj : file
        A real, seekable binary file (with ``readinto``).
    start : int
        Where the archive starts in the file.
    size : int
        Its size in bytes.
    """

    def __init__(self, fileobj: Any, start: int, size: int) -> None:
        self._fileobj = fileobj
        self._start = start
        self._size = size
        self._zip = zipfile.ZipFile(io.BufferedReader(
            _MemberReader(fileobj, start, size)))
        self._infos = {info.filename[:-len('.npy')]: info
                       for info in self._zip.infolist()
                       if info.filename.endswith('.npy')}
        self.files = list(self._infos)

    def __enter__(self) -> 'NpzReader':
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def __contains__(self, key: str) -> bool:
        return key in self._infos

    def __getitem__(self, key: str) -> numpy.ndarray:
        info = self._infos[key]
        if info.compress_type != zipfile.ZIP_STORED:
            with self._zip.open(info) as member:
                return npy_format.read_array(member, allow_pickle=False)
        return self._read_stored(info)

    def read_all(self, expected_crc: int | None) -> dict[str, numpy.ndarray]:
        """Every array, each checked against its CRC-32 in the zip.

        With ``expected_crc`` (the checkpoint's checksum of the member),
        the rest of the archive (its zip headers and directory, which the
        entries' CRC-32 do not cover) is checked against it too: every
        byte of the member is then checked, and each once.

        Raises
        ------
        zipfile.BadZipFile
            If a checksum does not match.
        """
        arrays = {}
        crc, position = 0, 0
        for info in sorted(self._zip.infolist(),
                           key=lambda info: info.header_offset):
            data_start = self._data_start(info)
            crc = _read_crc(self._fileobj, self._start, position,
                            data_start - self._start, crc)
            if info.filename.endswith('.npy'):
                arrays[info.filename[:-len('.npy')]] = self[
                    info.filename[:-len('.npy')]]
            position = data_start - self._start + info.compress_size
        crc = _read_crc(self._fileobj, self._start, position, self._size, crc)
        if expected_crc is not None and crc != expected_crc:
            raise zipfile.BadZipFile("its checksum does not match")
        return arrays

    def _data_start(self, info: zipfile.ZipInfo) -> int:
        fileobj = self._fileobj
        fileobj.seek(self._start + info.header_offset)
        local_header = fileobj.read(_LOCAL_HEADER.size)
        if len(local_header) != _LOCAL_HEADER.size:
            raise EOFError(f"{info.filename}: the file ends in its header")
        signature, name_length, extra_length = _LOCAL_HEADER.unpack(
            local_header)
        if signature != _LOCAL_HEADER_SIGNATURE:
            raise zipfile.BadZipFile(f"{info.filename}: bad local header")
        return (self._start + info.header_offset + _LOCAL_HEADER.size
                + name_length + extra_length)

    def _read_stored(self, info: zipfile.ZipInfo) -> numpy.ndarray:
        """The array of ``info``, read in place, its CRC-32 checked."""
        fileobj = self._fileobj
        data_start = self._data_start(info)
        fileobj.seek(data_start)
        version = npy_format.read_magic(fileobj)
        if version not in ((1, 0), (2, 0)):
            # Rare (structured dtypes with non-ASCII field names): numpy
            # reads it.
            with self._zip.open(info) as member:
                return npy_format.read_array(member, allow_pickle=False)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fileobj)
        else:
            shape, fortran, dtype = npy_format.read_array_header_2_0(fileobj)
        if dtype.hasobject:
            raise ValueError(f"{info.filename}: object arrays cannot be "
                             f"loaded when allow_pickle=False")
        header_length = fileobj.tell() - data_start
        count = 1
        for dimension in shape:
            count *= dimension
        nbytes = count * dtype.itemsize
        if header_length + nbytes != info.file_size:
            raise zipfile.BadZipFile(
                f"{info.filename}: the archive says {info.file_size} bytes, "
                f"the array header {header_length + nbytes}")
        array = numpy.empty(shape[::-1] if fortran else shape, dtype)
        fileobj.seek(data_start)
        crc = zlib.crc32(fileobj.read(header_length))
        if nbytes:
            buffer = _as_bytes(array)
            read = fileobj.readinto(buffer)
            if read != nbytes:
                raise EOFError(f"{info.filename}: {nbytes - (read or 0)} of "
                               f"its {nbytes} bytes are missing")
            crc = zlib.crc32(buffer, crc)
        if crc != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        return array.T if fortran else array


def _read_crc(fileobj: Any, base: int, start: int, stop: int,
              crc: int) -> int:
    """``crc`` chained over the bytes ``[base + start, base + stop)``."""
    if stop < start:
        raise zipfile.BadZipFile("overlapping members")
    fileobj.seek(base + start)
    data = fileobj.read(stop - start)
    if len(data) != stop - start:
        raise EOFError("the archive is truncated")
    return zlib.crc32(data, crc)
