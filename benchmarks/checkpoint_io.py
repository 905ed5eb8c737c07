"""Time writing and reading checkpoints against numpy.savez / numpy.load.

Run with ``python benchmarks/checkpoint_io.py`` (``--help`` for options).
For models of about 50 MB and 200 MB of float32 parameters it reports the
median over ``--repeat`` runs of:

write, fsync + rename
    ``secure_dump(None, path, parameters=...)`` against ``numpy.savez``
    with the same guarantees: to a temporary file in the directory, fsync,
    ``os.replace``, fsync of the directory.
write, fsync in place
    The same ``secure_dump`` against ``numpy.savez`` over the old file,
    then fsync (not atomic: a crash leaves a broken file).
write, no fsync
    ``dump`` to an open file against ``numpy.savez``: the serialization
    alone, without waiting for the disk.
read
    ``load`` of a whole checkpoint (a pickled object referring to every
    parameter, resolved from ``_parameters``) and ``load_parameters``,
    against ``numpy.load`` of the ``.npz`` with every array read.

demo
    ``python -m blocks.demo`` run with ``BLOCKS_PROFILE=1``: the time spent
    in :class:`~blocks.extensions.saveload.Checkpoint` (every callback),
    against the whole run's wall time and the profiled training time.

The target is a ratio of at most 1.3 for each line; for writing it
applies to the first line, which compares like with like (checkpoints are
always fsynced and renamed). For the demo, checkpointing should take less
than 10% of the wall time. On a machine shared with other processes the
write times vary a lot from run to run (the kernel throttles writers of
many dirty pages), hence the alternation and the median. Reads come from
the page cache (the files were just written) on both sides.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy
import pytensor

# Run from a checkout without installing: the repository root is the parent
# of this file's directory.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from blocks.serialization import dump, load, load_parameters, secure_dump
from blocks.serialization.atomic import fsync_directory

#: Side of the square float32 weight matrices (16 MiB each).
SIDE = 2048


def make_parameters(megabytes):
    """Float32 shared variables of about ``megabytes`` MB, like an MLP's."""
    rng = numpy.random.default_rng(0)
    parameters = []
    total = 0
    i = 0
    while total < megabytes * 1e6:
        weights = rng.standard_normal((SIDE, SIDE), dtype=numpy.float32)
        biases = rng.standard_normal(SIDE, dtype=numpy.float32)
        parameters.append(pytensor.shared(weights, name=f'linear_{i}.W'))
        parameters.append(pytensor.shared(biases, name=f'linear_{i}.b'))
        total += weights.nbytes + biases.nbytes
        i += 1
    return parameters, total


def timed_pair(ours, theirs, repeat):
    """Median times of two functions, run alternately.

    Alternating spreads the noise of a shared machine (other processes,
    the kernel writing back dirty pages) over both sides.
    """
    ours_times, theirs_times = [], []
    for _ in range(repeat):
        for function, times in ((ours, ours_times), (theirs, theirs_times)):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
    return statistics.median(ours_times), statistics.median(theirs_times)


def savez_atomic(path, arrays):
    directory = os.path.dirname(path)
    with tempfile.NamedTemporaryFile(dir=directory, delete=False) as temp:
        numpy.savez(temp.file, **arrays)
        temp.flush()
        os.fsync(temp.fileno())
    os.replace(temp.name, path)
    fsync_directory(directory)


def savez_fsync(path, arrays):
    with open(path, 'wb') as file_:
        numpy.savez(file_, **arrays)
        file_.flush()
        os.fsync(file_.fileno())


def savez(path, arrays):
    with open(path, 'wb') as file_:
        numpy.savez(file_, **arrays)


def dump_no_fsync(path, parameters):
    with open(path, 'wb') as file_:
        dump(None, file_, parameters=parameters)


def numpy_read(path):
    with numpy.load(path) as npz:
        return {key: npz[key] for key in npz.files}


def load_whole(path):
    with open(path, 'rb') as file_:
        return load(file_)


def load_only_parameters(path):
    with open(path, 'rb') as file_:
        return load_parameters(file_)


def run(megabytes, directory, repeat):
    parameters, nbytes = make_parameters(megabytes)
    arrays = {p.name: p.get_value(borrow=True) for p in parameters}
    npz_path = os.path.join(directory, 'arrays.npz')
    tar_path = os.path.join(directory, 'checkpoint.tar')
    rows = []

    def compare(what, ours, theirs):
        rows.append((what, *timed_pair(ours, theirs, repeat)))

    compare('write, fsync + rename',
            lambda: secure_dump(None, tar_path, parameters=parameters),
            lambda: savez_atomic(npz_path, arrays))
    compare('write, fsync in place',
            lambda: secure_dump(None, tar_path, parameters=parameters),
            lambda: savez_fsync(npz_path, arrays))
    compare('write, no fsync',
            lambda: dump_no_fsync(tar_path, parameters),
            lambda: savez(npz_path, arrays))
    # The whole checkpoint: an object referring to every parameter.
    secure_dump(parameters, tar_path, parameters=parameters,
                dump_function=dump, use_cpickle=True)
    compare('load (whole checkpoint)', lambda: load_whole(tar_path),
            lambda: numpy_read(npz_path))
    compare('load_parameters', lambda: load_only_parameters(tar_path),
            lambda: numpy_read(npz_path))
    loaded = load_only_parameters(tar_path)
    assert all(numpy.array_equal(loaded[name], array)
               for name, array in arrays.items())
    print(f"\n{nbytes / 1e6:.0f} MB of parameters ({len(parameters)} "
          f"arrays), median of {repeat}")
    print(f"{'':28}{'blocks':>10}{'numpy':>10}{'ratio':>8}")
    for what, ours_time, theirs_time in rows:
        print(f"{what:28}{ours_time:9.3f}s{theirs_time:9.3f}s"
              f"{ours_time / theirs_time:8.2f}")
    return rows


#: A line of the profile report: indented name, seconds, percentage.
PROFILE_LINE = re.compile(r'^(?P<indent> *)(?P<name>\S.*?)\s+'
                          r'(?P<seconds>\d+\.\d+)\s+(?P<percent>\d+\.\d+)%$')


def demo_checkpoint_share(epochs, directory):
    """Seconds in Checkpoint, profiled seconds, wall seconds of the demo."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = dict(os.environ, BLOCKS_PROFILE='1',
                       PYTHONPATH=os.pathsep.join(
                           filter(None, [root, os.environ.get('PYTHONPATH')])))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, '-m', 'blocks.demo', '--epochs', str(epochs),
         '--output-dir', os.path.join(directory, 'demo')],
        capture_output=True, text=True, env=environment, check=True)
    wall = time.perf_counter() - start
    checkpoint = profiled = 0.
    for line in (result.stdout + result.stderr).splitlines():
        match = PROFILE_LINE.match(line)
        if match is None:
            continue
        if match['name'] == 'Checkpoint':
            checkpoint += float(match['seconds'])
        elif not match['indent']:
            profiled += float(match['seconds'])
    return checkpoint, profiled, wall


def report_demo(epochs, directory):
    checkpoint, profiled, wall = demo_checkpoint_share(epochs, directory)
    print(f"\ndemo ({epochs} epochs, a checkpoint every epoch)")
    print(f"checkpointing {checkpoint:.2f}s = {checkpoint / wall:.1%} of the "
          f"wall time ({wall:.2f}s, imports and compilation included), "
          f"{checkpoint / profiled:.1%} of the main loop ({profiled:.2f}s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', type=float, nargs='+', default=[50, 200],
                        help="model sizes in MB (default: 50 200)")
    parser.add_argument('--repeat', type=int, default=7,
                        help="runs per measurement; the median is reported")
    parser.add_argument('--dir', default=None,
                        help="directory for the files (default: a new "
                        "temporary directory)")
    parser.add_argument('--demo-epochs', type=int, default=60,
                        help="epochs of the demo run (0: no demo run)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        for megabytes in args.sizes:
            run(megabytes, directory, args.repeat)
        if args.demo_epochs:
            report_demo(args.demo_epochs, directory)


if __name__ == '__main__':
    main()
