"""A minimal data stream with Fuel's interface, written without blocks.data.

The main loop must accept any object with that interface (duck typing).
"""


class ListStream:
    """Yields ``{'data': item}`` for each item of a list, epoch after epoch.

    Its epoch iterators pickle, so main loops using it can be pickled
    mid-epoch.
    """

    sources = ('data',)

    def __init__(self, items):
        self.items = list(items)

    def get_epoch_iterator(self, as_dict=False):
        return ListIterator(self.items, as_dict)


class ListIterator:
    def __init__(self, items, as_dict):
        self.items = items
        self.as_dict = as_dict
        self.position = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.position >= len(self.items):
            raise StopIteration
        item = self.items[self.position]
        self.position += 1
        return {'data': item} if self.as_dict else (item,)
