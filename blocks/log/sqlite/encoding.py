"""How values are stored in the SQLite log, and read back without running code.

SQLite stores ``None``, integers, floats and strings natively; they are
kept as they are (``True`` becomes ``1``, NaN becomes ``NULL``). Any other
value becomes a BLOB that starts with :data:`MAGIC` and a one-byte tag:

``a`` / ``s``
    A NumPy array / scalar of a plain dtype: ``b'<dtype> <shape>\\n'``
    followed by the raw bytes in C order.
``j``
    Lists, tuples, dicts and complex numbers of such values, as JSON:
    tuples are ``{"t": [...]}``, dicts ``{"d": [[key, value], ...]}`` and
    complex numbers ``{"c": [real, imag]}``.
``b``
    ``bytes``, as they are.
``p``
    Anything else, pickled. Unpickling runs code chosen by whoever wrote
    the file, so it happens only when the reader asks for it
    (``allow_pickle=True``); otherwise reading raises
    :class:`PickledValueError`. A BLOB without :data:`MAGIC` (a log written
    by the original Blocks) is a pickle too.

Values that this process wrote are cached in their encoded form together
with a cheap way to copy them (:class:`Blob`), so reading them back
neither decodes nor unpickles.
"""
import json
import pickle
import warnings
from typing import Any

import numpy

from blocks.config import config

#: The first bytes of every BLOB written by this version of the log.
MAGIC = b'BLK\x00'

LARGE_BLOB_WARNING = """

A {} object of {} bytes was stored in the SQLite database. SQLite natively \
only supports numbers and text. Other objects are encoded (and, if they are \
not arrays, lists, tuples or dicts of plain values, pickled) before being \
saved. For large objects, this can be slow and degrade performance of the \
database."""

pickled_value_message = """\
{where} holds a pickled object of {size} bytes; unpickling it would run \
code from the log file. If you trust the file, read it with \
allow_pickle=True (SQLiteLog(..., allow_pickle=True), \
blocks.log.read_rows(..., allow_pickle=True), or blocks-log \
--allow-pickle)."""

INT64_MIN, INT64_MAX = -2 ** 63, 2 ** 63 - 1
_IMMUTABLE = frozenset([type(None), bool, int, float, complex, str, bytes])

# How a cached value is read back (see Blob.load).
SHARE, LIST, ARRAY, DECODE, OWN_PICKLE = range(5)


class PickledValueError(ValueError):
    """A stored value is a pickle, and the reader did not allow unpickling."""


class Blob:
    """A value that SQLite stores as a BLOB, with a fast way to read it.

    ``mode`` says how :meth:`load` makes a fresh copy: ``SHARE`` returns
    ``obj`` (immutable), ``LIST`` copies the tuple ``obj`` into a list,
    ``ARRAY`` copies the array ``obj``, ``OWN_PICKLE`` unpickles a blob
    that this process pickled, and ``DECODE`` decodes ``blob`` as read
    from the database.
    """

    __slots__ = ('blob', 'mode', 'obj')

    def __init__(self, blob: bytes, mode: int = DECODE, obj: Any = None):
        self.blob = blob
        self.mode = mode
        self.obj = obj

    def load(self, allow_pickle: bool, key: str,
             time: int | None = None) -> Any:
        mode = self.mode
        if mode == SHARE:
            return self.obj
        if mode == LIST:
            return list(self.obj)
        if mode == ARRAY:
            return self.obj.copy(order='K')
        if mode == OWN_PICKLE:
            return pickle.loads(memoryview(self.blob)[len(MAGIC) + 1:])
        return decode(self.blob, allow_pickle, key, time)


def to_database(value: Any) -> Any:
    """What to hand SQLite for a cached value."""
    return value.blob if value.__class__ is Blob else value


def from_database(value: Any, key: str) -> Any:
    """The cached form of a value read from the database.

    A BLOB under ``resumed_from`` is returned as it is (as in Blocks).
    """
    if value.__class__ is bytes and key != 'resumed_from':
        return Blob(value)
    return value


def encode(value: Any, key: str) -> Any:
    """The cached form of a value: what SQLite would read back.

    This is the one fast path for native values; anything else goes to
    :func:`encode_other`.
    """
    cls = value.__class__
    if cls is float:
        # SQLite stores NaN as NULL.
        return value if value == value else None
    if cls is int and INT64_MIN <= value <= INT64_MAX:
        return value
    if cls is str or value is None:
        return value
    if cls is bool:
        return 1 if value else 0
    return encode_other(value, key)


def encode_other(value: Any, key: str) -> Any:
    if isinstance(value, numpy.ndarray):
        if value.ndim == 0 and value.dtype.kind in 'biuf':
            return encode(float(value), key)
        if _plain_dtype(value.dtype):
            blob = _check_size(value, MAGIC + b'a' + _array_bytes(value))
            if value.__class__ is numpy.ndarray and value.nbytes <= 1 << 16:
                return Blob(blob, ARRAY, value.copy(order='K'))
            return Blob(blob)
        return _pickled(value)
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return int(value)  # IntEnum and other subclasses
        raise OverflowError(
            f"{key!r}: the int {value} does not fit in SQLite's 64-bit "
            f"INTEGER; store it as a string or a float instead")
    if isinstance(value, float):
        return encode(float(value), key)  # numpy.float64
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        if key == 'resumed_from':
            return bytes(value)
        return Blob(MAGIC + b'b' + bytes(value), SHARE, bytes(value))
    if isinstance(value, numpy.generic) and _plain_dtype(value.dtype):
        return Blob(MAGIC + b's' + _array_bytes(numpy.asarray(value)),
                    SHARE, value)
    if isinstance(value, (list, tuple, dict, complex)):
        try:
            text = json.dumps(_to_json(value), separators=(',', ':'))
        except _NotPlain:
            return _pickled(value)
        blob = _check_size(value, MAGIC + b'j' + text.encode())
        cls = value.__class__
        items: Any = value
        if cls is tuple and all(type(item) in _IMMUTABLE for item in items):
            return Blob(blob, SHARE, value)
        if cls is list and all(type(item) in _IMMUTABLE for item in items):
            return Blob(blob, LIST, tuple(items))
        return Blob(blob)
    return _pickled(value)


def decode(blob: bytes, allow_pickle: bool, key: str,
           time: int | None = None) -> Any:
    """The value of a BLOB read from the database, stored under ``key``.

    Raises
    ------
    PickledValueError
        If the BLOB is a pickle and ``allow_pickle`` is false.
    """
    if blob[:len(MAGIC)] != MAGIC:
        return _unpickle(blob, allow_pickle, key, time)
    tag, body = blob[len(MAGIC):len(MAGIC) + 1], blob[len(MAGIC) + 1:]
    if tag == b'a':
        return _read_array(body)
    if tag == b's':
        return _read_array(body)[()]
    if tag == b'j':
        return _from_json(json.loads(body))
    if tag == b'b':
        return bytes(body)
    if tag == b'p':
        return _unpickle(body, allow_pickle, key, time)
    raise ValueError(f"{_where(key, time)} holds a BLOB of an unknown kind "
                     f"{tag!r}: the log was written by a newer version of "
                     f"blocks")


def _plain_dtype(dtype: numpy.dtype) -> bool:
    return dtype.kind in 'biufcSUMm' and dtype.fields is None


def _array_bytes(array: numpy.ndarray) -> bytes:
    shape = ','.join(str(size) for size in array.shape)
    header = f'{array.dtype.str} {shape}\n'.encode()
    return header + numpy.ascontiguousarray(array).tobytes()


def _read_array(body: bytes) -> numpy.ndarray:
    end = body.index(b'\n')
    dtype, _, shape = body[:end].decode().partition(' ')
    dims = tuple(int(size) for size in shape.split(',') if size)
    return numpy.frombuffer(body[end + 1:], dtype=dtype).reshape(dims).copy()


class _NotPlain(Exception):
    pass


def _to_json(value: Any) -> Any:
    if value is None or value.__class__ in (bool, str):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, complex):
        return {'c': [value.real, value.imag]}
    if value.__class__ is list:
        return [_to_json(item) for item in value]
    if value.__class__ is tuple:
        return {'t': [_to_json(item) for item in value]}
    if value.__class__ is dict:
        return {'d': [[_to_json(key), _to_json(item)]
                      for key, item in value.items()]}
    raise _NotPlain


def _from_json(value: Any) -> Any:
    if value.__class__ is list:
        return [_from_json(item) for item in value]
    if value.__class__ is dict:
        (tag, items), = value.items()
        if tag == 't':
            return tuple(_from_json(item) for item in items)
        if tag == 'd':
            return {_from_json(key): _from_json(item)
                    for key, item in items}
        return complex(*items)
    return value


def _pickled(value: Any) -> Blob:
    return Blob(_check_size(value, MAGIC + b'p' + pickle.dumps(value)),
                OWN_PICKLE)


def _unpickle(body: bytes, allow_pickle: bool, key: str,
              time: int | None) -> Any:
    if not allow_pickle:
        raise PickledValueError(pickled_value_message.format(
            where=_where(key, time), size=len(body)))
    return pickle.loads(body)


def _where(key: str, time: int | None) -> str:
    if time is None:
        return f"the record {key!r}"
    return f"the record {key!r} of iteration {time}"


def _check_size(value: Any, blob: bytes) -> bytes:
    if len(blob) > config.max_blob_size:
        warnings.warn('large objects stored in SQLite' +
                      LARGE_BLOB_WARNING.format(type(value), len(blob)),
                      stacklevel=4)
        # Prevent the warning with variable message from repeating
        warnings.filterwarnings('ignore', 'large objects .*')
    return blob
