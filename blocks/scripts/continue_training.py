"""``blocks-continue``: resume training from a checkpoint.

Installed as the ``blocks-continue`` command (the original's
``bin/blocks-continue``); also runs as ``python -m
blocks.scripts.continue_training``.
"""
import argparse
import logging
import os
import sys
import tarfile
from typing import Any

logger = logging.getLogger('blocks-continue')

DESCRIPTION = """Continues your pickled main loop: loads the main loop saved \
in a checkpoint (by the Checkpoint extension or blocks.serialization.dump) \
and runs it, so that training goes on exactly where the checkpoint was \
taken: same iteration, same position in the epoch, same random state. The \
modules that define the main loop's objects (your extensions, say) must be \
importable; classes and functions defined in the training script itself \
(__main__) can not be found. A checkpoint saved after training finished \
(FinishAfter, EarlyStopping) is not continued unless asked with --extend, \
--more-epochs or --more-batches."""

EPILOG = """Loading unpickles the checkpoint, which can run arbitrary code: \
only continue checkpoints you trust. Checkpoints are written where the run \
wrote them (relative paths are relative to the directory the run was \
started in), whatever the current directory; --here writes them beside \
PATH instead. To resume by running your training script again instead, \
add Load(path, load_iteration_state=True, load_log=True) to its \
extensions. See docs/checkpoints.rst."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='blocks-continue',
                                     description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("path", help="A path to a file with a pickled main "
                        "loop (a checkpoint)")
    parser.add_argument(
        "--here", action='store_true',
        help="write the checkpoints (and the log, if it is a file that "
        "can move) in the directory of PATH, under their own names, "
        "instead of where the run wrote them: to resume a copy of a "
        "checkpoint without writing over the original's files")
    extend = parser.add_mutually_exclusive_group()
    extend.add_argument(
        "--extend", action='store_true',
        help="continue a run that had finished, past its end, until it is "
        "stopped (Ctrl+C) or another condition ends it")
    extend.add_argument(
        "--more-epochs", type=int, metavar='N',
        help="continue a run that had finished for N more epochs")
    extend.add_argument(
        "--more-batches", type=int, metavar='N',
        help="continue a run that had finished for N more batches")
    return parser


def relocate(main_loop: Any, directory: str) -> None:
    """Make the extensions and the log write their files in ``directory``.

    Calls ``relocate(directory)`` on each extension and on the log that
    has such a method (:class:`~blocks.extensions.saveload.Checkpoint`); a
    log kept in a file (:class:`~blocks.log.SQLiteLog`) without one
    continues in the file of the same name in ``directory``.
    """
    from blocks.serialization.core import log_file
    for owner in [*main_loop.extensions, main_loop.log]:
        method = getattr(owner, 'relocate', None)
        if callable(method):
            method(directory)
    database = log_file(main_loop.log)
    if database is not None and not callable(
            getattr(main_loop.log, 'relocate', None)):
        main_loop.log.database = os.path.join(directory,
                                              os.path.basename(database))


def warn_if_elsewhere(main_loop: Any, path: str) -> None:
    """Warn when the checkpoints will not be written beside ``path``.

    A checkpoint copied elsewhere and resumed writes where the run it was
    copied from wrote (over its files); ``--here`` avoids that.
    """
    directory = os.path.dirname(os.path.realpath(path))
    for extension in main_loop.extensions:
        destinations = getattr(extension, 'destinations', None)
        if not callable(destinations):
            continue
        elsewhere = [destination for destination in destinations()
                     if os.path.dirname(os.path.realpath(destination))
                     != directory]
        if elsewhere:
            logger.warning(
                "%s is resumed from %s, but its checkpoints go where the "
                "run wrote them: %s. Use --here to write them beside %s "
                "instead.", os.path.basename(path), directory,
                ', '.join(elsewhere), path)


def add_limit(main_loop: Any, epochs: int | None,
              batches: int | None) -> None:
    """Finish ``epochs`` epochs or ``batches`` batches from now."""
    from blocks.extensions import FinishAfter
    status = main_loop.status
    if epochs is not None:
        limit = FinishAfter(after_n_epochs=status['epochs_done'] + epochs)
    else:
        assert batches is not None
        limit = FinishAfter(
            after_n_batches=status['iterations_done'] + batches)
    limit.main_loop = main_loop
    main_loop.extensions.append(limit)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and continue training.

    Does what :func:`~blocks.serialization.continue_training` does, with a
    one-line error instead of a traceback when the checkpoint can not be
    read.
    """
    args = build_parser().parse_args(argv)
    for value in (args.more_epochs, args.more_batches):
        if value is not None and value <= 0:
            sys.exit(f"blocks-continue: error: --more-epochs and "
                     f"--more-batches need a positive number, got {value}")
    logging.basicConfig()
    # Imported here, so that --help does not wait for PyTensor.
    from blocks.serialization.core import (load_main_loop,
                                           nothing_to_continue_message,
                                           training_has_finished,
                                           warn_if_finished)
    try:
        main_loop = load_main_loop(args.path)
    except (OSError, KeyError, tarfile.ReadError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else exc
        sys.exit(f"blocks-continue: error: {message}")
    # Before anything reads the log, which opens its file.
    if args.here:
        relocate(main_loop, os.path.dirname(os.path.abspath(args.path)))
    else:
        warn_if_elsewhere(main_loop, args.path)
    more = args.more_epochs is not None or args.more_batches is not None
    if training_has_finished(main_loop):
        if not (args.extend or more):
            print(nothing_to_continue_message.format(
                path=args.path,
                option='--extend, --more-epochs N or --more-batches N'))
            return
        if more:
            add_limit(main_loop, args.more_epochs, args.more_batches)
        else:
            warn_if_finished(main_loop, args.path)
    main_loop.run()


if __name__ == '__main__':
    main()
