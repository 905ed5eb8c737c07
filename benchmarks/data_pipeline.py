"""Throughput of the data pipeline against a plain numpy loop.

Measures examples per second for one shuffled epoch of 60000 examples of
784 float32 values, in batches of 128, scaled, shifted and cast:

* ``numpy loop``: the same shuffled fancy indexing and arithmetic, in place,
  written by hand;
* ``DataStream(IndexableDataset)`` with ``ScaleAndShift`` + ``Cast``;
* the same chain over an ``H5PYDataset`` loaded in memory, and read lazily
  from disk (with ``ShuffledScheme(sorted_indices=True)``, as HDF5 reads
  want increasing indices).

Run: ``python benchmarks/data_pipeline.py [--rounds N]``.
"""
import argparse
import os
import tempfile
import time

import h5py
import numpy

from blocks.data.datasets import H5PYDataset, IndexableDataset
from blocks.data.schemes import ShuffledScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Cast, ScaleAndShift

NUM_EXAMPLES, NUM_FEATURES, BATCH_SIZE = 60000, 784, 128
SCALE, SHIFT = 1 / 255.0, -0.5


def numpy_loop(features: numpy.ndarray, rng: numpy.random.RandomState
               ) -> int:
    """One epoch by hand; returns the number of examples seen."""
    indices = numpy.arange(len(features))
    rng.shuffle(indices)
    seen = 0
    for start in range(0, len(indices), BATCH_SIZE):
        batch = features[indices[start:start + BATCH_SIZE]]
        batch *= SCALE
        batch += SHIFT
        batch = batch.astype('float32', copy=False)
        seen += len(batch)
    return seen


def pipeline(dataset, rng: numpy.random.RandomState, sorted_indices=False):
    """The stream under test."""
    stream = DataStream(dataset, iteration_scheme=ShuffledScheme(
        dataset.num_examples, BATCH_SIZE, rng=rng,
        sorted_indices=sorted_indices))
    return Cast(ScaleAndShift(stream, SCALE, SHIFT), 'float32')


def stream_epoch(stream) -> int:
    seen = 0
    for features, in stream.get_epoch_iterator():
        seen += len(features)
    return seen


def best_rates(contenders: dict, rounds: int
               ) -> dict[str, tuple[float, float]]:
    """Examples per second of each contender's fastest epoch.

    Rounds run every contender once, in turn, so that all of them see the
    same load on a shared machine. Both the fastest wall-clock time
    (``time.perf_counter``) and the fastest CPU time of the process
    (``time.process_time``, which a busy machine disturbs less) are kept.
    """
    best = {name: [float('inf'), float('inf')] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            seen = run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name][0] = min(best[name][0], wall)
            best[name][1] = min(best[name][1], cpu)
    return {name: (seen / wall, seen / max(cpu, 1e-9))
            for name, (wall, cpu) in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=10,
                        help='epochs per contender (the fastest is kept)')
    args = parser.parse_args()

    features = numpy.random.RandomState(0).uniform(
        0, 255, (NUM_EXAMPLES, NUM_FEATURES)).astype('float32')
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, 'bench.hdf5')
        with h5py.File(path, 'w') as h5file:
            h5file['features'] = features
            h5file.attrs['split'] = H5PYDataset.create_split_array(
                {'train': {'features': (0, NUM_EXAMPLES)}})
        rng = numpy.random.RandomState(1)
        stream = pipeline(IndexableDataset({'features': features}),
                          numpy.random.RandomState(1))
        in_memory = pipeline(H5PYDataset(path, ('train',),
                                         load_in_memory=True),
                             numpy.random.RandomState(1))
        rates = best_rates({
            'numpy loop': lambda: numpy_loop(features, rng),
            'IndexableDataset': lambda: stream_epoch(stream),
            'H5PYDataset in memory': lambda: stream_epoch(in_memory),
        }, args.rounds)
        lazy = pipeline(H5PYDataset(path, ('train',)),
                        numpy.random.RandomState(1), sorted_indices=True)
        rates.update(best_rates(
            {'H5PYDataset lazy (disk)': lambda: stream_epoch(lazy)}, 1))
        lazy.close()

    base_wall, base_cpu = rates['numpy loop']
    print(f"{NUM_EXAMPLES} x {NUM_FEATURES} float32, batches of {BATCH_SIZE}"
          f", ScaleAndShift + Cast, fastest of {args.rounds} epochs "
          "(lazy: 1 epoch)")
    print(f"{'':24s} {'wall clock':>24s}   {'CPU time':>24s}")
    for name, (wall, cpu) in rates.items():
        print(f"{name:24s} {wall:12,.0f} ex/s {wall / base_wall:5.2f}x   "
              f"{cpu:12,.0f} ex/s {cpu / base_cpu:5.2f}x")


if __name__ == '__main__':
    main()
