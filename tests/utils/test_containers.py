"""Tests of AnnotatingList."""
from blocks.utils.containers import AnnotatingList


class Recording(AnnotatingList):
    def __init__(self, items=None):
        self.events = []
        super().__init__(items)

    def _setitem(self, key, value):
        self.events.append(('set', key, value))

    def _delitem(self, key):
        self.events.append(('del', key))


def test_hooks_run_before_changes():
    items = Recording([1, 2])
    items[0] = 5
    del items[1]
    assert items == [5]
    assert items.events == [('set', 0, 1), ('set', 1, 2), ('set', 0, 5),
                            ('del', 1)]
    assert repr(items) == '[5]'
    assert items != [1]
