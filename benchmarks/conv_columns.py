"""The LeNet step of ``benchmarks/conv.py`` with and without shared columns.

Compiles the step twice in one process, in blocks' C mode with and without
the rewrite that shares a convolution's im2col with its weight gradient
(:data:`blocks.compilation.SHARED_CONV_COLUMNS_REWRITE`), and alternates
rounds of steps between the two, so that load from other processes falls
on both alike. Prints milliseconds per step (best and median over rounds)
and the median of the rounds' ratios. Threads: whatever
``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` and the CPU affinity allow
(e.g. ``OPENBLAS_NUM_THREADS=1 taskset -c 1 python ...``).

Usage::

    python benchmarks/conv_columns.py [--steps 20] [--rounds 16]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--rounds', type=int, default=16)
    args = parser.parse_args(argv)
    import pytensor
    pytensor.config.floatX = 'float32'
    from blocks.compilation import SHARED_CONV_COLUMNS_REWRITE, c_mode
    from conv import _blocks_network

    steps = {}
    for name, mode in (
            ('separate', c_mode().excluding(SHARED_CONV_COLUMNS_REWRITE)),
            ('shared', c_mode())):
        algorithm, batch = _blocks_network(mode=mode)
        algorithm.process_batch(batch)
        steps[name] = algorithm
    times = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, algorithm in steps.items():
            algorithm.process_batch(batch)
            start = time.perf_counter()
            for _ in range(args.steps):
                algorithm.process_batch(batch)
            times[name].append((time.perf_counter() - start) / args.steps)
    for name, seconds in times.items():
        print(f"{name:>9} columns: {min(seconds) * 1e3:6.2f} ms best, "
              f"{statistics.median(seconds) * 1e3:6.2f} ms median")
    ratio = statistics.median(s / p for s, p in zip(
        times['shared'], times['separate'], strict=True))
    print(f"shared / separate: {ratio:.3f} (median of rounds)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
