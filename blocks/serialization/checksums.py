"""A checksum for every member of a checkpoint, and checks of the archive.

The last member, ``_checksums``, holds the CRC-32 of every other member's
content: a line with the CRC-32 of the rest, then ``{"crc32": {member:
crc}}`` in JSON. For ``_parameters``, a zip archive whose entries (the
arrays) each have a CRC-32 in the zip already, it is the CRC-32 of the bytes
outside the entries (headers, data descriptors, directory): every byte is
covered by one checksum, and read once. Tar headers have checksums of their
own, and :func:`check_archive_layout` checks that nothing but zeros lies
between and after the members; so a bit flipped anywhere in a checkpoint is
found, and reported with the file and the member. Checkpoints written
before this member existed are read as before (the arrays of
``_parameters`` still have their zip CRC-32).
"""
import json
import tarfile
import zlib
from collections.abc import Mapping
from typing import IO, Any

from blocks.serialization.tar import CorruptCheckpointError, _taradd, file_name

CHECKSUMS_MEMBER = '_checksums'

corrupt_member_message = (
    "{file} is corrupt: the member {name!r} {what}. The file was changed "
    "after it was written (a disk or a copy going wrong); use another "
    "checkpoint.")


def encode_checksums(crcs: Mapping[str, int]) -> bytes:
    """The content of the ``_checksums`` member."""
    body = json.dumps({'crc32': dict(crcs)}, sort_keys=True).encode()
    return b'%08x\n' % zlib.crc32(body) + body


def decode_checksums(data: bytes, file_: Any) -> dict[str, int]:
    """Member name -> CRC-32, from the content of ``_checksums``."""
    head, _, body = data.partition(b'\n')
    try:
        valid = int(head, 16) == zlib.crc32(body)
        crcs = json.loads(body)['crc32'] if valid else None
    except (ValueError, KeyError, TypeError):
        crcs = None
    if not isinstance(crcs, dict) or not all(
            isinstance(crc, int) for crc in crcs.values()):
        raise CorruptCheckpointError(corrupt_member_message.format(
            file=file_name(file_), name=CHECKSUMS_MEMBER,
            what="does not match its own checksum"))
    return crcs


def add_checksums(tar_file: tarfile.TarFile,
                  crcs: Mapping[str, int | None]) -> None:
    """Append the ``_checksums`` member (members without a CRC are left out).
    """
    known = {name: crc for name, crc in crcs.items() if crc is not None}
    _taradd(lambda file_: file_.write(encode_checksums(known)), tar_file,
            CHECKSUMS_MEMBER)


def read_checksums(tar_file: tarfile.TarFile,
                   file_: IO[bytes]) -> dict[str, int] | None:
    """The checksums of the archive, or ``None`` if it has none.

    When the member appears more than once (:func:`add_to_dump` appends a
    new one), the last one is read, as :mod:`tarfile` does.
    """
    try:
        member = tar_file.getmember(CHECKSUMS_MEMBER)
    except KeyError:
        return None
    # Read directly: tarfile cannot extract from an archive open to append.
    file_.seek(member.offset_data)
    return decode_checksums(file_.read(member.size), file_)


def check_crc(data: Any, name: str, checksums: dict[str, int] | None,
              file_: Any) -> None:
    """Raise if ``data``, the content of member ``name``, was changed."""
    if checksums is None or name not in checksums:
        return
    if zlib.crc32(data) != checksums[name]:
        raise CorruptCheckpointError(corrupt_member_message.format(
            file=file_name(file_), name=name,
            what="does not match its checksum"))


def check_archive_layout(tar_file: tarfile.TarFile, file_: Any) -> None:
    """Raise if bytes outside the members are not the zeros tar writes.

    :mod:`tarfile` stops reading at a member header whose own checksum is
    wrong, as if the archive ended there; the bytes after the last member
    it read must then be zeros. The padding after each member must be
    zeros too.
    """
    previous = 'the start of the archive'
    for member in tar_file.getmembers():
        end = member.offset_data + member.size
        padding = -member.size % tarfile.BLOCKSIZE
        file_.seek(end)
        if file_.read(padding).strip(tarfile.NUL):
            raise CorruptCheckpointError(corrupt_member_message.format(
                file=file_name(file_), name=member.name,
                what="is followed by padding that is not zeros"))
        previous = f'the member {member.name!r}'
    file_.seek(tar_file.offset)
    if file_.read().strip(tarfile.NUL):
        raise CorruptCheckpointError(
            f"{file_name(file_)} is corrupt: the header of the member after "
            f"{previous} is damaged (its tar checksum does not match), so "
            f"that member and the ones after it cannot be read. The file "
            f"was changed after it was written; use another checkpoint.")
