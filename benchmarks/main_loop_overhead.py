"""Per-batch overhead of MainLoop over a plain loop, for both log backends.

Run: python benchmarks/main_loop_overhead.py [--batches N]

The algorithm does nothing, so what is measured is the cost of the loop, the
log and the common extensions (FinishAfter, Timing, Printing every epoch,
ProgressBar and a SimpleExtension every 100 batches). The figure is
microseconds per batch over a plain ``for batch in stream`` loop run in the
same process. Targets: at most 5 us with the python log, 20 us with sqlite.

Both loops are single-threaded and CPU-bound, so the figures are CPU time
(``time.process_time``), which other processes on a shared machine disturb
far less than wall-clock time; the best of several repeats is kept.
"""
import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

import numpy

from blocks.algorithms import TrainingAlgorithm
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import SequentialScheme
from blocks.data.streams import DataStream
from blocks.extensions import (
    FinishAfter,
    Printing,
    ProgressBar,
    SimpleExtension,
    Timing,
)
from blocks.log import SQLiteLog, TrainingLog
from blocks.main_loop import MainLoop


class NoOpAlgorithm(TrainingAlgorithm):
    def initialize(self, **kwargs):
        pass

    def process_batch(self, batch):
        pass


class EveryHundred(SimpleExtension):
    def do(self, which_callback, *args):
        self.main_loop.log.current_row['hundred'] = True


def make_stream(batches):
    data = numpy.zeros((batches, 1), dtype='float32')
    return DataStream(IndexableDataset({'features': data}),
                      iteration_scheme=SequentialScheme(batches, 1))


clock = time.process_time


def plain_loop(stream, epochs):
    start = clock()
    for _ in range(epochs):
        for _batch in stream.get_epoch_iterator(as_dict=True):
            pass
    return clock() - start


def main_loop_time(stream, epochs, log):
    main_loop = MainLoop(
        NoOpAlgorithm(), stream, log=log,
        extensions=[FinishAfter(after_n_epochs=epochs), Timing(),
                    ProgressBar(), Printing(),
                    EveryHundred(every_n_batches=100)])
    with contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        start = clock()
        main_loop.run()
        return clock() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batches', type=int, default=20000,
                        help='batches per epoch')
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    stream = make_stream(args.batches)
    total = args.batches * args.epochs
    with tempfile.TemporaryDirectory() as directory:
        logs = {
            'python': TrainingLog,
            'sqlite': lambda: SQLiteLog(
                database=os.path.join(directory, 'log.sqlite')),
        }
        plain = min(plain_loop(stream, args.epochs)
                    for _ in range(args.repeats))
        print(f"plain loop: {plain / total * 1e6:.2f} us per batch")
        for name, make_log in logs.items():
            looped = min(main_loop_time(stream, args.epochs, make_log())
                         for _ in range(args.repeats))
            overhead = (looped - plain) / total * 1e6
            print(f"MainLoop, {name} log: {looped / total * 1e6:.2f} us per "
                  f"batch, overhead {overhead:.2f} us per batch "
                  f"({looped / plain:.2f}x the plain loop)")
    sys.stdout.flush()


if __name__ == '__main__':
    main()
