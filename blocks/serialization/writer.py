"""Writing checkpoint files: atomically, by copy, and the fallback.

:class:`~blocks.extensions.saveload.Checkpoint` decides when to save and
what; a :class:`CheckpointWriter` does the file work: it writes the archive
atomically, copies the file it has just written when the same state is
saved under a second name, and, when the main loop cannot be pickled,
writes what can be saved to a separate file so that the last resumable
checkpoint is never replaced by one that cannot be resumed.
"""
import logging
import os
from typing import Any

from blocks.serialization.atomic import copy_file
from blocks.serialization.core import dump_and_add_to_dump, secure_dump

logger = logging.getLogger(__name__)

#: Inserted before the extension of a checkpoint's name to name the file
#: that holds the parameters and the log when the main loop could not be
#: pickled: ``checkpoint.tar`` -> ``checkpoint.parameters-and-log.tar``.
FALLBACK_INFIX = '.parameters-and-log'

not_resumable_message = """{error}

{path!r} was not replaced: {kept}. The {members} of {state} were saved to \
{fallback!r} instead; load them with \
blocks.serialization.load_parameters(file) and load(file, name). Training \
cannot be resumed from that file."""

nothing_saved_message = """{error}

{path!r} was not replaced: {kept}. Saving the {members} of {state} to \
{fallback!r} failed as well: {fallback_error}"""


def fallback_path(path: str | os.PathLike[str]) -> str:
    """Where the parameters and log go when ``path`` cannot be resumable.

    >>> fallback_path('run/checkpoint.tar')
    'run/checkpoint.parameters-and-log.tar'
    """
    root, extension = os.path.splitext(os.fspath(path))
    return root + FALLBACK_INFIX + (extension or '.tar')


class CheckpointWriter:
    """Writes checkpoints for :class:`~blocks.extensions.saveload.Checkpoint`.

    Parameters
    ----------
    use_cpickle : bool
        See :func:`~blocks.serialization.dump`.

    Attributes
    ----------
    last_written : dict
        Path -> description of the state last written there by this
        writer (e.g. ``'iteration 20'``), for messages.
    """

    def __init__(self, use_cpickle: bool = False) -> None:
        self.use_cpickle = use_cpickle
        self.last_written: dict[str, str] = {}
        self._last_token: object = None
        self._last_file: tuple[str, tuple[int, int, int]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # What this process wrote is no copy source for another process.
        state = dict(self.__dict__)
        state['_last_token'] = None
        state['_last_file'] = None
        return state

    def write(self, path: str, main_loop: Any, parameters: Any,
              to_add: dict[str, Any] | None, state: str,
              token: object = None) -> None:
        """Save ``main_loop`` (or only ``parameters`` and ``to_add``).

        Parameters
        ----------
        path : str
            The destination.
        main_loop : object or None
            Pickled as ``_pkl``; ``None`` saves no main loop.
        parameters : list of shared variables or None
            Saved in ``_parameters``.
        to_add : dict or None
            Other members.
        state : str
            What is being saved, for messages (``'iteration 25'``).
        token : object, optional
            Identifies the state saved: a second write with the same token
            (other than ``None``) copies the file written first instead of
            pickling again (or does nothing, for the same path), if that
            file is unchanged.

        Raises
        ------
        blocks.serialization.UnpicklableError
            If the main loop cannot be pickled; ``path`` is then left as it
            was and the parameters and ``to_add`` (with the log) are saved
            beside it (see :func:`fallback_path`); the message says which
            file holds what.
        """
        source = self._copy_source(token)
        if source is not None:
            if source != path:
                copy_file(source, path)
        else:
            try:
                secure_dump(main_loop, path,
                            dump_function=dump_and_add_to_dump,
                            parameters=parameters, to_add=to_add,
                            use_cpickle=self.use_cpickle)
            except Exception as error:
                if (main_loop is not None and getattr(
                        error, 'checkpoint_member', None) == '_pkl'):
                    self._save_fallback(path, main_loop, parameters, to_add,
                                        state, error)
                raise
        self.last_written[path] = state
        self._remember(path, token)

    def _copy_source(self, token: object) -> str | None:
        if token is None or token is not self._last_token:
            return None
        assert self._last_file is not None
        path, signature = self._last_file
        try:
            if _signature(path) == signature:
                return path
        except OSError:
            pass
        return None

    def _remember(self, path: str, token: object) -> None:
        self._last_token = token
        self._last_file = None
        if token is not None:
            self._last_file = (path, _signature(path))

    def _save_fallback(self, path: str, main_loop: Any, parameters: Any,
                       to_add: dict[str, Any] | None, state: str,
                       error: Exception) -> None:
        """Save what can be saved beside ``path``; raise a clear error."""
        members = dict(to_add or {})
        log = getattr(main_loop, 'log', None)
        if log is not None:
            members.setdefault('log', log)
        fallback = fallback_path(path)
        if os.path.exists(path):
            kept = (f"it still holds the last resumable checkpoint, of "
                    f"{self.last_written[path]}" if path in self.last_written
                    else "it still holds the previous checkpoint")
        else:
            kept = "no resumable checkpoint was written there yet"
        names = (['parameters'] if parameters else []) + sorted(members)
        description = ', '.join(names) or 'nothing'
        try:
            secure_dump(None, fallback, dump_function=dump_and_add_to_dump,
                        parameters=parameters or None, to_add=members,
                        use_cpickle=self.use_cpickle)
        except Exception as fallback_error:
            logger.error("%s was not replaced (the main loop of %s cannot "
                         "be pickled), and saving the %s to %s failed: %s",
                         path, state, description, fallback, fallback_error)
            raise type(error)(nothing_saved_message.format(
                error=error, path=path, kept=kept, members=description,
                state=state, fallback=fallback,
                fallback_error=fallback_error)) from error
        logger.error("%s was not replaced because the main loop of %s "
                     "cannot be pickled (%s); %s. The %s were saved to %s, "
                     "which cannot be resumed.", path, state,
                     getattr(error, 'unpicklable_path', 'see the error'),
                     kept, description, fallback)
        described = type(error)(not_resumable_message.format(
            error=error, path=path, kept=kept, members=description,
            state=state, fallback=fallback))
        for attribute in ('unpicklable_path', 'unpicklable_object',
                          'checkpoint_member'):
            if hasattr(error, attribute):
                setattr(described, attribute, getattr(error, attribute))
        described.fallback_path = fallback  # type: ignore[attr-defined]
        raise described from error


def _signature(path: str) -> tuple[int, int, int]:
    stat = os.stat(path)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns
