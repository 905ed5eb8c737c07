"""Containers with hooks on item assignment and removal."""
from collections.abc import MutableSequence


class AnnotatingList(MutableSequence):
    """A list-like container that calls hooks when items change.

    Subclasses override :meth:`_setitem` (called before an item is set or
    inserted) and :meth:`_delitem` (called before an item is deleted).
    """

    def __init__(self, items=None):
        self._items = []
        if items is not None:
            self.extend(items)

    def __repr__(self):
        return repr(self._items)

    def __eq__(self, other):
        return self._items == other

    def __getitem__(self, key):
        return self._items[key]

    def _setitem(self, key, value):
        """Hook called before ``self[key] = value`` and inserts."""

    def __setitem__(self, key, value):
        self._setitem(key, value)
        self._items[key] = value

    def _delitem(self, key):
        """Hook called before ``del self[key]``."""

    def __delitem__(self, key):
        self._delitem(key)
        del self._items[key]

    def __len__(self):
        return len(self._items)

    def insert(self, key, value):
        self._setitem(key, value)
        self._items.insert(key, value)
