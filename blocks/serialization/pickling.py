"""Picklers with persistent ids, and finding what cannot be pickled.

Besides the persistent ids of the parameters' arrays (see
:mod:`blocks.serialization.core`), the picklers here leave out what a
checkpoint does not need, because it can be rebuilt: a function compiled by
:func:`blocks.compilation.function` is stored as the graph it was compiled
from and compiled again when it is unpickled (see
:mod:`blocks.serialization.functions`), and the stack traces that PyTensor
keeps on every variable (``variable.tag.trace``, for error messages) are
dropped. Both are most of the pickle of a main loop, and of the time spent
writing it.
"""
import copyreg
import pickle
import types
import warnings
from collections.abc import Callable, Iterator
from typing import IO, Any

import numpy

from blocks.serialization.functions import reduce_compiled_function
from blocks.serialization.names import _unmangle_parameter_name

DEFAULT_PROTOCOL = pickle.DEFAULT_PROTOCOL

MAIN_MODULE_WARNING = """WARNING: Main loop depends on the function `{}` in \
`__main__` namespace.

Because of limitations to pickling, this means that you will not be able to \
resume your model outside of a namespace containing this function. In other \
words, you can only call `continue_training` from within this script."""

UNPICKLABLE_MESSAGE = """{path} (a {type_name}) cannot be pickled: {error}

A checkpoint pickles the whole object ({root}) so that training can resume \
from it. Lambdas, functions defined inside other functions, open files, \
locks and database connections cannot be pickled: replace this one by a \
function or class defined at the top level of a module, or do not keep a \
reference to it. See docs/checkpoints.rst."""


class UnpicklableError(pickle.PicklingError):
    """An object that a checkpoint must pickle cannot be pickled.

    A :class:`pickle.PicklingError`, as the original raised. When the
    pickler's own error was a :class:`TypeError` or :class:`AttributeError`
    (an open file, a lambda), the exception raised is also an instance of
    that class.

    Attributes
    ----------
    unpicklable_path : str
        Where the object is, from the object being saved
        (``'main_loop.extensions[3].function'``).
    unpicklable_object : object
        The object that failed.
    checkpoint_member : str or None
        The member of the checkpoint being written (``'_pkl'``).
    """

    unpicklable_path: str = ''
    unpicklable_object: object = None
    checkpoint_member: str | None = None

    def __reduce__(self) -> tuple:
        # Without the object, which cannot be pickled.
        state = {key: value for key, value in self.__dict__.items()
                 if key != 'unpicklable_object'}
        return type(self), self.args, state


class UnpicklableTypeError(UnpicklableError, TypeError):
    """:class:`UnpicklableError` where pickling raised a :class:`TypeError`.
    """


class UnpicklableAttributeError(UnpicklableError, AttributeError):
    """:class:`UnpicklableError` where pickling raised an
    :class:`AttributeError` (a local function or class).
    """


def _unpicklable_error_class(original: type) -> type[UnpicklableError]:
    """:class:`UnpicklableError`, also a ``TypeError`` etc. if it was one."""
    if issubclass(original, TypeError):
        return UnpicklableTypeError
    if issubclass(original, AttributeError):
        return UnpicklableAttributeError
    return UnpicklableError


def _reduce_scratchpad(scratchpad: Any) -> tuple:
    """A PyTensor ``tag`` without its ``trace``."""
    state = dict(object.__getattribute__(scratchpad, '__dict__'))
    del state['trace']
    return copyreg.__newobj__, (type(scratchpad),), state  # type: ignore


#: Caches of PyTensor's ``OpFromGraph`` (Softmax and others are ones) and
#: their empty values: the compiled inner function and the gradient ops,
#: all built again when needed.
_OP_FROM_GRAPH_CACHES: dict[str, Callable[[], Any]] = {
    '_fn': lambda: None, '_lop_op_cache': dict,
    '_rop_op_cache': lambda: None}


def _op_from_graph_type() -> type | None:
    try:
        from pytensor.compile.builders import OpFromGraph
    except ImportError:
        return None
    return OpFromGraph


def _reduce_without_caches(op: Any, protocol: int) -> Any:
    """The ``__reduce_ex__`` value of ``op`` with its caches emptied."""
    reduced = op.__reduce_ex__(protocol)
    if not (isinstance(reduced, tuple) and len(reduced) >= 3
            and isinstance(reduced[2], dict)):
        return NotImplemented
    state = dict(reduced[2])
    for name, empty in _OP_FROM_GRAPH_CACHES.items():
        if name in state:
            state[name] = empty()
    return (*reduced[:2], state, *reduced[3:])


def _scratchpad_type() -> type | None:
    try:
        from pytensor.graph.utils import Scratchpad
    except ImportError:
        return None
    return Scratchpad


def _function_type() -> type | None:
    try:
        from pytensor.compile.executor import Function
    except ImportError:
        return None
    return Function


class _CheckpointPickler(pickle.Pickler):
    """The C pickler, with persistent ids and without what can be rebuilt.

    Parameters
    ----------
    file : file
        Where to write.
    protocol : int, optional
        The pickle protocol.
    external_objects : dict, optional
        ``id(object)`` -> persistent id, for :class:`_SaveObject`.
    """

    def __init__(self, file: IO[bytes], protocol: int | None = None,
                 external_objects: dict[int, str] | None = None,
                 **kwargs: Any) -> None:
        self.external_objects = external_objects or {}
        # The C pickler calls these two for (nearly) every object, and
        # looks them up once, when it is initialized: closures instead of
        # methods spare an attribute lookup per object, a third of the
        # time of a checkpoint of a small model.
        get = self.external_objects.get

        def persistent_id(obj: Any) -> str | None:
            return get(id(obj))

        self.persistent_id = persistent_id  # type: ignore[method-assign]
        self._protocol = (pickle.HIGHEST_PROTOCOL if protocol is not None
                          and protocol < 0 else protocol or DEFAULT_PROTOCOL)
        self.reducer_override = (  # type: ignore[method-assign]
            self._make_reducer_override())
        super().__init__(file, protocol, **kwargs)

    def _make_reducer_override(self) -> Callable[[Any], Any]:
        scratchpad_type = _scratchpad_type()
        function_type = _function_type()
        op_from_graph_type = _op_from_graph_type()
        get_attribute = object.__getattribute__
        protocol = self._protocol
        # type -> whether it is an OpFromGraph, filled as types come.
        is_op_from_graph: dict[type, bool] = {}

        def reducer_override(obj: Any) -> Any:
            type_ = type(obj)
            # object.__getattribute__: Scratchpad's own is written in
            # Python.
            if (type_ is scratchpad_type
                    and 'trace' in get_attribute(obj, '__dict__')):
                return _reduce_scratchpad(obj)
            if type_ is function_type:
                return reduce_compiled_function(obj)
            known = is_op_from_graph.get(type_)
            if known is None:
                known = is_op_from_graph[type_] = (
                    op_from_graph_type is not None
                    and isinstance(type_, type)
                    and issubclass(type_, op_from_graph_type))
            if known:
                return _reduce_without_caches(obj, protocol)
            return NotImplemented
        return reducer_override


class _PicklerWithWarning(_CheckpointPickler):
    """A pickler warning about functions and classes from ``__main__``.

    Functions and classes are pickled by reference (module and name); one
    defined in the script that was run as ``__main__`` can only be found
    again by running that same script. Each is reported once per dump.

    The original subclassed the pure-Python pickler; this one is the C
    pickler, hooked through ``reducer_override``, several times faster on
    a main loop.
    """

    def _make_reducer_override(self) -> Callable[[Any], Any]:
        reduce = super()._make_reducer_override()
        warned: set[int] = set()
        function_type = types.FunctionType

        def reducer_override(obj: Any) -> Any:
            if ((type(obj) is function_type or isinstance(obj, type))
                    and getattr(obj, '__module__', None) == '__main__'
                    and id(obj) not in warned):
                warned.add(id(obj))
                warnings.warn(MAIN_MODULE_WARNING.format(obj.__qualname__),
                              stacklevel=2)
            return reduce(obj)
        return reducer_override


class _PersistentID:
    """Replace the objects in ``external_objects`` by their persistent id.

    Parameters
    ----------
    external_objects : dict
        ``id(object)`` -> persistent id.
    """

    def __init__(self, external_objects: dict[int, str]) -> None:
        self.external_objects = external_objects

    def __call__(self, object_: Any) -> str | None:
        return self.external_objects.get(id(object_))


class _PersistentLoad:
    """Resolve persistent ids to arrays of the ``_parameters`` member.

    The arrays are read lazily, on the first id that needs them, and
    cached per id so that every reference shares one array.

    Parameters
    ----------
    parameters : callable
        Returns the mapping npz key -> array (called at most once).
    """

    def __init__(self, parameters: Callable[[], Any]) -> None:
        self._get_parameters = parameters
        self._parameters: Any = None
        self.cache: dict[Any, Any] = {}

    @property
    def parameters(self) -> Any:
        if self._parameters is None:
            self._parameters = self._get_parameters()
        return self._parameters

    def __call__(self, id_: Any) -> Any:
        if id_ not in self.cache:
            recreate, name, context_name = _unmangle_parameter_name(id_)
            self.cache[id_] = recreate(context_name, self.parameters[name])
        return self.cache[id_]


class _SaveObject:
    """Pickle ``object_`` to a file, replacing external objects by ids.

    Parameters
    ----------
    pickler : type
        The pickler class: :class:`_PicklerWithWarning`, or
        :class:`pickle.Pickler` for the C pickler without warnings.
    object_ : object
        The object to pickle.
    external_objects : dict
        ``id(object)`` -> persistent id.
    protocol : int
        The pickle protocol.
    root : str, optional
        How to call ``object_`` in error messages; by default its class
        name in snake case (``'main_loop'``).
    member : str, optional
        The archive member being written, recorded on errors.
    """

    def __init__(self, pickler: type, object_: Any,
                 external_objects: dict[int, str], protocol: int,
                 root: str | None = None, member: str | None = None,
                 **kwargs: Any) -> None:
        self.pickler = pickler
        self.object_ = object_
        self.external_objects = external_objects
        self.protocol = protocol
        self.root = root or _snake_case(type(object_).__name__)
        self.member = member
        self.kwargs = kwargs

    def __call__(self, file_: IO[bytes]) -> None:
        pickler_class = self.pickler
        if not issubclass(pickler_class, _CheckpointPickler):
            pickler_class = _CheckpointPickler
        pickler = pickler_class(file_, protocol=self.protocol,
                                external_objects=self.external_objects,
                                **self.kwargs)
        try:
            pickler.dump(self.object_)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            described = describe_unpicklable(self.object_, self.root, exc,
                                             self.protocol)
            described.checkpoint_member = self.member
            raise described from exc


def _snake_case(name: str) -> str:
    """``'MainLoop'`` -> ``'main_loop'``."""
    return ''.join('_' + c.lower() if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


class _NullFile:
    def write(self, data: bytes) -> int:
        return len(data)


class _ProbePickler(_CheckpointPickler):
    """Pickles to nowhere, skipping plain arrays and objects in ``stubs``.

    Plain arrays always pickle. The objects in ``stubs`` (ids) are those on
    the path being examined: a child that refers back to its parent (an
    extension to its main loop) is judged on what it adds.
    """

    def __init__(self, file_: Any, protocol: int, stubs: Any) -> None:
        self.stubs = stubs
        super().__init__(file_, protocol=protocol)
        self.persistent_id = self._probe_id  # type: ignore[method-assign]
        # The C pickler read persistent_id when it was initialized.
        pickle.Pickler.__init__(self, file_, protocol)

    def _probe_id(self, obj: Any) -> int | None:
        if type(obj) is numpy.ndarray and not obj.dtype.hasobject:
            return 0
        if id(obj) in self.stubs:
            return 1
        return None


def _pickling_error(obj: Any, protocol: int,
                    stubs: Any = frozenset()) -> Exception | None:
    """The error pickling ``obj`` raises, or ``None``."""
    try:
        _ProbePickler(_NullFile(), protocol, stubs).dump(obj)
    except Exception as exc:
        return exc
    return None


def _children(obj: Any, protocol: int) -> Iterator[tuple[str, Any]]:
    """``(path suffix, child)`` for what pickling ``obj`` pickles next."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield f'[{key!r}]', value
        return
    if isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield f'[{i}]', value
        return
    if isinstance(obj, (set, frozenset)):
        for value in obj:
            yield f'.<element {value!r}>', value
        return
    if isinstance(obj, type):
        return
    reduce = copyreg.dispatch_table.get(type(obj))
    try:
        if reduce is not None:
            reduced = reduce(obj)
        else:
            reduced = obj.__reduce_ex__(protocol)
    except Exception:
        return
    if not isinstance(reduced, tuple):
        return
    parts: tuple[Any, ...] = reduced + (None,) * (5 - len(reduced))
    _, args, state, listitems, dictitems = parts[:5]
    if isinstance(state, tuple) and len(state) == 2 and all(
            isinstance(part, dict) or part is None for part in state):
        states = [part for part in state if part]
    else:
        states = [state]
    for part in states:
        if isinstance(part, dict):
            for key, value in part.items():
                yield f'.{key}', value
        elif part is not None:
            yield '.__getstate__()', part
    for i, arg in enumerate(args or ()):
        if not isinstance(arg, type):
            yield f'.__reduce__()[1][{i}]', arg
    if listitems is not None:
        for i, value in enumerate(listitems):
            yield f'[{i}]', value
    if dictitems is not None:
        for key, value in dictitems:
            yield f'[{key!r}]', value


def find_unpicklable(object_: Any, root: str = 'object_',
                     protocol: int = DEFAULT_PROTOCOL
                     ) -> tuple[str, Any, Exception] | None:
    """Find the most specific part of ``object_`` that cannot be pickled.

    Walks down from ``object_`` into the first attribute, item or
    constructor argument that fails to pickle on its own, until none of
    the children of the failing object fails.

    Returns
    -------
    tuple or None
        ``(path, obj, error)``, e.g. ``('main_loop.extensions[3].function',
        <function <lambda>>, PicklingError(...))``, or ``None`` if
        ``object_`` pickles.

    Examples
    --------
    >>> path, obj, error = find_unpicklable({'f': [1, lambda x: x]}, 'config')
    >>> path
    "config['f'][1]"
    """
    error = _pickling_error(object_, protocol)
    if error is None:
        return None
    path, obj = root, object_
    on_path = {id(object_)}
    while True:
        for suffix, child in _children(obj, protocol):
            if id(child) in on_path:
                continue
            child_error = _pickling_error(child, protocol, on_path)
            if child_error is not None:
                path, obj, error = path + suffix, child, child_error
                on_path.add(id(child))
                break
        else:
            return path, obj, error


def describe_unpicklable(object_: Any, root: str, error: Exception,
                         protocol: int = DEFAULT_PROTOCOL
                         ) -> UnpicklableError:
    """An :class:`UnpicklableError` that names the part that failed.

    It is also an instance of the class of the pickler's error when that
    is a :class:`TypeError` or :class:`AttributeError`.
    """
    try:
        found = find_unpicklable(object_, root, protocol)
    except Exception:
        found = None
    if found is None:
        path, obj = root, object_
    else:
        path, obj, error = found
    message = UNPICKLABLE_MESSAGE.format(
        path=path, type_name=type(obj).__name__, error=error, root=root)
    described = _unpicklable_error_class(type(error))(message)
    described.unpicklable_path = path
    described.unpicklable_object = obj
    return described
