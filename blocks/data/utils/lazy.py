"""Attributes that are not pickled but rebuilt by ``load()`` when needed."""
from collections.abc import Callable, Iterator
from typing import Any


def lazy_property_factory(lazy_property: str) -> tuple[Callable, Callable]:
    """Getter and setter of a property stored as ``_<lazy_property>``.

    The getter calls ``self.load()`` when the value is absent, and raises
    :class:`ValueError` if ``load`` did not set it.

    """
    private_name = '_' + lazy_property

    def lazy_property_getter(self):
        if not hasattr(self, private_name):
            self.load()
        if not hasattr(self, private_name):
            raise ValueError(
                f"{lazy_property} wasn't loaded: {type(self).__name__}.load() "
                f"must set self.{lazy_property}")
        return getattr(self, private_name)

    def lazy_property_setter(self, value):
        setattr(self, private_name, value)

    return lazy_property_getter, lazy_property_setter


def _defines_getstate(cls: type) -> bool:
    # Since Python 3.11 ``object`` has a ``__getstate__``, so upstream's
    # ``hasattr`` test would never install ours: look below ``object``.
    return any('__getstate__' in vars(klass) for klass in cls.__mro__
               if klass is not object)


def do_not_pickle_attributes(*lazy_properties: str) -> Callable[[type], type]:
    """Class decorator: leave attributes out of pickles, reload them lazily.

    Each named attribute becomes a property backed by ``_<name>``; reading it
    while unset calls the class's ``load()`` method, which must set it. A
    ``__getstate__`` dropping the attributes is added unless the class
    defines one.

    Examples
    --------
    >>> @do_not_pickle_attributes('table')
    ... class Lookup:
    ...     def load(self):
    ...         self.table = {'a': 1}
    >>> lookup = Lookup()
    >>> lookup.table  # loaded on first use
    {'a': 1}
    >>> '_table' in lookup.__getstate__()  # left out of pickles
    False

    """
    def wrap_class(cls: type) -> type:
        if not hasattr(cls, 'load'):
            raise ValueError(
                f"{cls.__name__} has no load() method: "
                "do_not_pickle_attributes needs one to rebuild "
                f"{', '.join(lazy_properties)}")
        for lazy_property in lazy_properties:
            setattr(cls, lazy_property,
                    property(*lazy_property_factory(lazy_property)))
        if not _defines_getstate(cls):
            def __getstate__(self) -> dict[str, Any]:
                state = self.__dict__.copy()
                for lazy_property in lazy_properties:
                    value = state.pop('_' + lazy_property, None)
                    if isinstance(value, Iterator):
                        raise ValueError(
                            f"{lazy_property} holds an iterator, which would "
                            "lose its position when reloaded: iterators "
                            "can't be lazy-loaded attributes")
                return state
            cls.__getstate__ = __getstate__
        return cls
    return wrap_class
