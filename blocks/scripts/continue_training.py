"""``blocks-continue``: resume training from a checkpoint.

Installed as the ``blocks-continue`` command (the original's
``bin/blocks-continue``); also runs as ``python -m
blocks.scripts.continue_training``.
"""
import argparse
import logging
import sys
import tarfile

DESCRIPTION = """Continues your pickled main loop: loads the main loop saved \
in a checkpoint (by the Checkpoint extension or blocks.serialization.dump) \
and runs it, so that training goes on exactly where the checkpoint was \
taken: same iteration, same position in the epoch, same random state. The \
modules that define the main loop's objects (your extensions, say) must be \
importable; classes and functions defined in the training script itself \
(__main__) can not be found."""

EPILOG = """Loading unpickles the checkpoint, which can run arbitrary code: \
only continue checkpoints you trust. To resume by running your training \
script again instead, add Load(path, load_iteration_state=True, \
load_log=True) to its extensions. See docs/checkpoints.rst."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='blocks-continue',
                                     description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("path", help="A path to a file with a pickled main "
                        "loop (a checkpoint)")
    return parser


def main(argv=None) -> None:
    """Parse the command line and continue training.

    Does what :func:`~blocks.serialization.continue_training` does, with a
    one-line error instead of a traceback when the checkpoint can not be
    read.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig()
    # Imported here, so that --help does not wait for PyTensor.
    from blocks.serialization.core import load_main_loop, warn_if_finished
    try:
        main_loop = load_main_loop(args.path)
    except (OSError, KeyError, tarfile.ReadError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else exc
        sys.exit(f"blocks-continue: error: {message}")
    warn_if_finished(main_loop, args.path)
    main_loop.run()


if __name__ == '__main__':
    main()
