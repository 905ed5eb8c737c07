"""The dispatcher: how the main loop calls its extensions' callbacks.

The main loop owns one :class:`Dispatcher` and calls
``dispatcher.fire(callback_name, *args)`` at each stage of training. For
each callback the dispatcher keeps a table of the extensions that respond to
it, in the order of ``main_loop.extensions``, with the callable to run and
the profile section to time it under. The answers that cost something (does
this extension respond? which bound method or condition list runs?) are
asked once, when a table is built, not on every batch.

A table is rebuilt when

- an extension calls :meth:`~blocks.extensions.TrainingExtension.\
conditions_changed` (adding or setting conditions does it), which calls
  :meth:`Dispatcher.invalidate`; if that happens while a callback is being
  dispatched, the extensions after the one that changed are looked up again;
- the list of extensions is no longer the one the tables were built from
  (an extension appended, removed or replaced in place, or a new list):
  checked at every callback, so such a change made by an extension takes
  effect from the next callback on;
- the callback is fired under another profile section than before.

Callbacks are resolved on the extension object, so a callback replaced on
one instance (``extension.after_batch = my_function``, as mocks do) runs.
Replacing one after training has started takes effect at the next rebuild:
call ``extension.conditions_changed()`` to make it immediate.
"""
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from blocks.extensions.base import (
    CALLBACK_NAMES,
    CallbackName,
    SimpleExtension,
    TrainingExtension,
)

__all__ = ['Dispatcher']

#: Prebuilt callback names, so that dispatching allocates nothing.
CALLBACKS = {name: CallbackName(name) for name in CALLBACK_NAMES}

#: One row of a table: position in ``main_loop.extensions``, the callable
#: to run with the main loop's arguments, the profile section.
Entry = tuple[int, Callable[..., Any], tuple[str, ...]]


class _Table:
    """The extensions that respond to one callback, under one section."""

    __slots__ = ('entries', 'key', 'prefix')

    def __init__(self, prefix: list[str], key: tuple[str, ...],
                 entries: list[Entry]):
        self.prefix = prefix
        self.key = key
        self.entries = entries


def _callable_for(extension: Any, callback_name: str) -> Callable | None:
    """What to call for ``callback_name``, ``None`` if it does nothing."""
    responds_to = getattr(extension, 'responds_to', None)
    if responds_to is not None and not responds_to(callback_name):
        return None
    dispatch = extension.dispatch
    function = getattr(dispatch, '__func__', None)
    if function is TrainingExtension.dispatch:
        # `TrainingExtension.dispatch` is `getattr(self, name)(*args)`:
        # call the callback itself, one call less per batch.
        return getattr(extension, callback_name)
    if function is SimpleExtension.dispatch:
        return extension.conditions_runner(CALLBACKS[callback_name])
    return partial(dispatch, CALLBACKS[callback_name])


class Dispatcher:
    """Calls the callbacks of a main loop's extensions, in order, timed.

    Parameters
    ----------
    main_loop : :class:`~blocks.main_loop.MainLoop`
        The main loop whose ``extensions`` are dispatched and whose
        ``profile`` records the time of each callback and extension.

    Notes
    -----
    Profile sections are the profile's current sections, the callback
    name, then the extension's class name, e.g. ``('training', 'epoch',
    'after_batch', 'Checkpoint')``.

    """

    def __init__(self, main_loop: Any):
        self.main_loop = main_loop
        self.version = 0
        self._tables: dict[str, _Table] = {}
        self._extensions: Sequence[Any] = []

    def invalidate(self) -> None:
        """Forget every table: an extension changed what it responds to."""
        self._tables = {}
        self.version += 1

    def fire(self, callback_name: str, *args: Any) -> None:
        """Run ``callback_name`` on every extension that responds to it.

        Parameters
        ----------
        callback_name : str
            One of the callback names of
            :class:`~blocks.extensions.TrainingExtension`.
        \\*args
            The arguments from the main loop (the batch for the batch
            callbacks, the exception for ``on_error``).

        """
        table = self._tables.get(callback_name)
        main_loop = self.main_loop
        if (table is None or table.prefix != main_loop.profile.current
                or main_loop.extensions != self._extensions):
            table = self._table(callback_name)
        entries = table.entries
        if not entries:
            return
        total = main_loop.profile.total
        clock = time.perf_counter
        start = last = clock()
        done = -1
        while True:
            version = self.version
            for position, call, section in entries:
                if position <= done:
                    continue
                call(*args)
                now = clock()
                total[section] += now - last
                last = now
                if self.version != version:
                    # The extensions after this one are looked up again.
                    done = position
                    entries = self._table(callback_name).entries
                    break
            else:
                break
        total[table.key] += last - start

    def responders(self, callback_name: str) -> list[Any]:
        """The extensions that respond to ``callback_name``, in order."""
        extensions = self.main_loop.extensions
        return [extensions[position] for position, _, _
                in self._table(callback_name).entries]

    def _table(self, callback_name: str) -> _Table:
        main_loop = self.main_loop
        extensions: Sequence[Any] = main_loop.extensions
        if extensions != self._extensions:
            self._tables = {}
            # The same type, so that comparing them in `fire` is cheap.
            self._extensions = (tuple(extensions)
                                if isinstance(extensions, tuple)
                                else list(extensions))
        profile = main_loop.profile
        prefix = list(profile.current)
        key = tuple(prefix) + (callback_name,)
        profile.order.setdefault(key)
        entries: list[Entry] = []
        for position, extension in enumerate(self._extensions):
            call = _callable_for(extension, callback_name)
            if call is None:
                continue
            section = key + (type(extension).__name__,)
            profile.order.setdefault(section)
            entries.append((position, call, section))
        table = _Table(prefix, key, entries)
        self._tables[callback_name] = table
        return table
