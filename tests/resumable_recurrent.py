"""A tiny recurrent training run that can be killed and resumed.

Run as ``python -m tests.resumable_recurrent DIRECTORY [--kill POINT ...]``:
trains the delayed-copy example's gated recurrent network (64 sequences,
4 batches an epoch) for 10 batches, with a checkpoint
``DIRECTORY/checkpoint.tar`` every 3 batches and at every epoch end. The
kill points are those of :mod:`tests.resumable_training`; a killed run is
resumed with ``blocks-continue DIRECTORY/checkpoint.tar``.
"""
import argparse
import os

from examples import delayed_copy
from tests.resumable_training import CHECKPOINT, KILLS_DONE, KillSwitch

NUM_BATCHES = 10
BATCHES_PER_EPOCH = 4


def build_main_loop(directory, kill_points=()):
    return delayed_copy.build_main_loop(
        os.path.join(directory, CHECKPOINT), num_batches=NUM_BATCHES,
        length=6, dim=8, batch_size=16, num_train=16 * BATCHES_PER_EPOCH,
        learning_rate=0.05, checkpoint_every=3,
        extensions=[KillSwitch(kill_points,
                               os.path.join(directory, KILLS_DONE))])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('directory')
    parser.add_argument('--kill', nargs='*', default=[])
    args = parser.parse_args(argv)
    build_main_loop(args.directory, args.kill).run()


if __name__ == '__main__':
    from tests.resumable_recurrent import main as importable_main
    importable_main()
