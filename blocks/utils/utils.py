"""Small helpers used across blocks that need no tensor library."""
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextlib import contextmanager


def pack(arg):
    """Pack a value into a list.

    A list or tuple becomes a list with the same items; anything else becomes
    a one-element list.

    >>> pack((1, 2))
    [1, 2]
    >>> pack(3)
    [3]
    """
    if isinstance(arg, (list, tuple)):
        return list(arg)
    return [arg]


def unpack(arg, singleton: bool = False):
    """Unpack a one-element list or tuple into its element.

    Parameters
    ----------
    arg : object
        The value to unpack. Values that are not lists or tuples are returned
        unchanged.
    singleton : bool
        If ``True``, a list or tuple whose length is not one raises
        :class:`ValueError` instead of being returned as a list.

    >>> unpack([5])
    5
    >>> unpack((1, 2))
    [1, 2]
    """
    if isinstance(arg, (list, tuple)):
        if len(arg) == 1:
            return arg[0]
        if singleton:
            raise ValueError(f"Expected a singleton, got {arg}")
        return list(arg)
    return arg


def reraise_as(new_exc):
    """Re-raise the exception being handled with a new message or type.

    Must be called inside an ``except`` block. A string becomes an exception
    of the original type with that message. The message is extended with an
    "Original exception" trailer naming the original exception, the original
    exception becomes ``__cause__`` and its traceback is kept.

    Parameters
    ----------
    new_exc : str or Exception
        The new message, or the new exception instance.
    """
    orig_exc_type, orig_exc_value, orig_exc_traceback = sys.exc_info()
    if isinstance(new_exc, str):
        new_exc = orig_exc_type(new_exc)
    if hasattr(new_exc, 'args'):
        if len(new_exc.args) > 0:
            new_message = ', '.join(str(arg) for arg in new_exc.args)
        else:
            new_message = ""
        new_message += '\n\nOriginal exception:\n\t' + orig_exc_type.__name__
        if hasattr(orig_exc_value, 'args') and len(orig_exc_value.args) > 0:
            if getattr(orig_exc_value, 'reraised', False):
                new_message += ': ' + str(orig_exc_value.args[0])
            else:
                new_message += ': ' + ', '.join(
                    str(arg) for arg in orig_exc_value.args)
        new_exc.args = (new_message,) + tuple(new_exc.args[1:])
    new_exc.__cause__ = orig_exc_value
    new_exc.reraised = True
    raise new_exc.with_traceback(orig_exc_traceback)


def dict_subset(dict_, keys, pop: bool = False, must_have: bool = True):
    """An ordered dictionary with the given keys of a dictionary.

    Parameters
    ----------
    dict_ : dict
        The dictionary to take values from.
    keys : iterable
        The keys to take, in the order of the result.
    pop : bool
        If ``True``, the keys are removed from ``dict_``.
    must_have : bool
        If ``True`` a missing key raises :class:`KeyError`, else it is
        skipped.
    """
    if not pop:
        getter = dict_.__getitem__
    else:
        getter = dict_.pop
    result = OrderedDict()
    for key in keys:
        if key in dict_:
            result[key] = getter(key)
        elif must_have:
            raise KeyError(key)
    return result


def dict_union(*dicts, **kwargs):
    """Merge dictionaries that have no key in common.

    The result is an :class:`OrderedDict` if the first dictionary is one.
    Keyword arguments are merged last.

    >>> dict_union({'a': 1}, {'b': 2}, c=3)
    {'a': 1, 'b': 2, 'c': 3}
    """
    if dicts and isinstance(dicts[0], OrderedDict):
        result = OrderedDict()
    else:
        result = {}
    for d in (*dicts, kwargs):
        duplicate_keys = result.keys() & d.keys()
        if duplicate_keys:
            keys = ', '.join(str(key) for key in duplicate_keys)
            raise ValueError(
                f"The following keys have duplicate entries: {keys}")
        result.update(d)
    return result


def repr_attrs(instance, *attrs) -> str:
    """A ``repr`` showing the class, the address and some attributes.

    The attributes are formatted with ``str``, as the reference does, so a
    brick shows ``name=linear`` and ``Constant(1.0)`` shows
    ``constant=1.0``. Falls back to the plain form when an attribute cannot
    be formatted.

    Examples
    --------
    >>> class Thing:
    ...     size = 3
    >>> repr_attrs(Thing(), 'size')  # doctest: +ELLIPSIS
    '<...Thing object at 0x...: size=3>'
    """
    orig_repr_template = (f"<{instance.__class__.__module__}."
                          f"{instance.__class__.__name__} object at "
                          f"{id(instance):#x}")
    if not attrs:
        return orig_repr_template + ">"
    try:
        details = ", ".join(f"{attr}={getattr(instance, attr)}"
                            for attr in attrs)
        return f"{orig_repr_template}: {details}>"
    except Exception:
        return orig_repr_template + ">"


def ipdb_breakpoint(x):
    """A hook that starts the ipdb debugger (for :func:`put_hook`)."""
    import ipdb
    ipdb.set_trace()


def print_sum(x, header: str | None = None):
    """A hook that prints the sum of a value (for :func:`put_hook`)."""
    if not header:
        header = 'print_sum'
    print(header + ':', x.sum())


def print_shape(x, header: str | None = None):
    """A hook that prints the shape of a value (for :func:`put_hook`)."""
    if not header:
        header = 'print_shape'
    print(header + ':', x.shape)


@contextmanager
def change_recursion_limit(limit: int):
    """Temporarily raise the recursion limit (never lower it)."""
    old_limit = sys.getrecursionlimit()
    if old_limit < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old_limit)


def extract_args(expected, *args, **kwargs):
    """Map positional and keyword arguments onto expected names.

    Parameters
    ----------
    expected : list of str
        The names, in order.

    Returns
    -------
    OrderedDict
        Name to value, in the order of ``expected``.

    >>> dict(extract_args(['a', 'b'], 1, b=2))
    {'a': 1, 'b': 2}
    """
    routed_args = OrderedDict(zip(expected, args))
    for name, value in kwargs.items():
        if name not in expected:
            raise KeyError(f'invalid input name: {name}')
        if name in routed_args:
            raise TypeError(f"got multiple values for argument '{name}'")
        routed_args[name] = value
    missing = [name for name in expected if name not in routed_args]
    if missing:
        raise ValueError(f'missing values for inputs: {missing}')
    return OrderedDict((name, routed_args[name]) for name in expected)


def find_bricks(top_bricks: Iterable, predicate: Callable) -> list:
    """Breadth-first search of bricks that satisfy a predicate.

    Each brick is visited once; the matches are returned in visit order.
    """
    found = []
    visited = set()
    to_visit = list(top_bricks)
    while to_visit:
        current = to_visit.pop(0)
        if current in visited:
            continue
        visited.add(current)
        if predicate(current):
            found.append(current)
        to_visit.extend(current.children)
    return found
