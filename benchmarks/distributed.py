"""Data-parallel training speed on 1 and 2 MPI ranks, and the Allreduce.

The network is an MLP 784-500-500-10 (tanh, softmax cross-entropy, Adam,
float32, 648,010 parameters: 2.6 MB of gradients), trained on synthetic
MNIST-shaped data through :class:`~blocks.distributed.DistributedMainLoop`
with one BLAS thread per rank. For per-rank batches of 100 and 500 the
script runs ``mpirun -n 1`` and ``mpirun -n 2`` (each rank a process with
its own compiled step, the global batch being ranks x per-rank batch),
and prints examples per second, the 2-rank speedup, the time of one
``Allreduce`` of the gradient buffer and of the 5-byte stop-flag
``Allreduce`` that every batch also makes, and an estimate of the scaling
to 8 and 64 ranks on a cluster network from those figures.

Usage::

    python benchmarks/distributed.py [--batches 20] [--warmup 3]

On a loaded machine, or with fewer free cores than ranks, the 2-rank
figure measures the machine, not the method: read the core count printed.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
# Run from a checkout without installing blocks.
sys.path.insert(0, str(REPOSITORY))

ONE_THREAD = {name: '1' for name in ('OMP_NUM_THREADS',
                                     'OPENBLAS_NUM_THREADS',
                                     'MKL_NUM_THREADS')}
EXAMPLES = 12000
#: Networks for the estimate: (name, bandwidth in bytes/s, latency in s).
NETWORKS = (('10 Gb/s Ethernet', 1.25e9, 25e-6),
            ('100 Gb/s InfiniBand', 12.5e9, 2e-6))


def worker(per_rank_batch, batches, warmup):
    """Train on this rank; rank 0 prints one JSON line of figures."""
    import numpy
    import pytensor
    pytensor.config.floatX = 'float32'
    from pytensor import tensor

    from blocks.algorithms import Adam
    from blocks.bricks import MLP, Softmax, Tanh
    from blocks.data.datasets import IndexableDataset
    from blocks.data.schemes import ShuffledScheme
    from blocks.data.streams import DataStream
    from blocks.distributed import (DistributedGradientDescent,
                                    DistributedMainLoop, ShardedScheme,
                                    world)
    from blocks.distributed.communicator import mpi
    from blocks.extensions import FinishAfter, SimpleExtension
    from blocks.graph import ComputationGraph
    from blocks.initialization import Constant, IsotropicGaussian

    class Stopwatch(SimpleExtension):
        def __init__(self):
            super().__init__(after_batch=True)
            self.times = {}

        def do(self, which_callback, *args):
            self.times[self.main_loop.status['iterations_done']] = (
                time.perf_counter())

    comm = world()
    rng = numpy.random.RandomState(1)
    data = {'features': rng.uniform(size=(EXAMPLES, 784)).astype('float32'),
            'targets': rng.randint(10, size=(EXAMPLES, 1))}
    x = tensor.matrix('features')
    y = tensor.lmatrix('targets')
    mlp = MLP([Tanh(), Tanh(), Softmax()], [784, 500, 500, 10],
              weights_init=IsotropicGaussian(0.01), biases_init=Constant(0),
              seed=1)
    mlp.initialize()
    probabilities = mlp.apply(x)
    cost = -tensor.log(probabilities[tensor.arange(y.shape[0]),
                                     y.flatten()]).mean()
    parameters = ComputationGraph([cost]).parameters
    algorithm = DistributedGradientDescent(
        cost=cost, parameters=parameters, step_rule=Adam())
    global_batch = per_rank_batch * comm.size
    stream = DataStream(IndexableDataset(data), iteration_scheme=ShardedScheme(
        ShuffledScheme(EXAMPLES, global_batch)))
    stopwatch = Stopwatch()
    main_loop = DistributedMainLoop(
        algorithm, stream, extensions=[
            FinishAfter(after_n_batches=warmup + batches), stopwatch])
    main_loop.run()
    seconds = stopwatch.times[warmup + batches] - stopwatch.times[warmup]

    MPI = mpi() if comm.size > 1 else None
    size = sum(p.get_value().size for p in parameters) + 1
    timings = {}
    for name, buffer in (('gradients', numpy.ones(size, 'float32')),
                         ('flags', numpy.zeros(5, 'int8'))):
        if MPI is None:
            timings[name] = 0.0
            continue
        repeats = 50 if name == 'gradients' else 500
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(repeats):
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        timings[name] = (time.perf_counter() - start) / repeats
    if comm.rank == 0:
        print(json.dumps({
            'ranks': comm.size, 'per_rank_batch': per_rank_batch,
            'examples_per_second': batches * global_batch / seconds,
            'step_seconds': seconds / batches,
            'allreduce_seconds': timings['gradients'],
            'allreduce_bytes': size * 4,
            'flags_allreduce_seconds': timings['flags']}))


def launch(ranks, per_rank_batch, batches, warmup):
    from blocks.distributed import mpirun_command
    command = mpirun_command(ranks) + [
        sys.executable, str(Path(__file__).resolve()), '--worker',
        '--per-rank-batch', str(per_rank_batch), '--batches', str(batches),
        '--warmup', str(warmup)]
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY), **ONE_THREAD)
    output = subprocess.run(command, capture_output=True, text=True,
                            env=environment, cwd=REPOSITORY, check=False)
    lines = [line for line in output.stdout.splitlines()
             if line.startswith('{')]
    if output.returncode != 0 or not lines:
        sys.exit(f"{' '.join(command)} failed:\n{output.stdout}\n"
                 f"{output.stderr}")
    return json.loads(lines[-1])


def allreduce_estimate(ranks, nbytes, bandwidth, latency):
    """Seconds of a bandwidth-optimal Allreduce (reduce-scatter, allgather)
    of `nbytes` over `ranks`: 2 (p-1)/p of the data each way, and
    2 log2(p) message latencies."""
    steps = 2 * (ranks - 1).bit_length()
    return 2 * (ranks - 1) / ranks * nbytes / bandwidth + steps * latency


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batches', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--per-rank-batch', type=int, default=None)
    parser.add_argument('--worker', action='store_true')
    args = parser.parse_args()
    if args.worker:
        worker(args.per_rank_batch, args.batches, args.warmup)
        return
    print(f"MLP 784-500-500-10, Adam, float32; {os.cpu_count()} cores, "
          f"one BLAS thread per rank; {args.batches} timed batches")
    results = {}
    for per_rank_batch in (100, 500):
        for ranks in (1, 2):
            result = launch(ranks, per_rank_batch, args.batches, args.warmup)
            results[ranks, per_rank_batch] = result
            line = (f"ranks {ranks}  per-rank batch {per_rank_batch:4d}: "
                    f"{result['examples_per_second']:9.0f} examples/s, "
                    f"{result['step_seconds'] * 1e3:7.2f} ms/step")
            if ranks == 2:
                speedup = (result['examples_per_second'] /
                           results[1, per_rank_batch]['examples_per_second'])
                line += (f"  speedup {speedup:.2f}x; Allreduce of "
                         f"{result['allreduce_bytes'] / 1e6:.1f} MB "
                         f"{result['allreduce_seconds'] * 1e3:.2f} ms, of "
                         f"the stop flags "
                         f"{result['flags_allreduce_seconds'] * 1e6:.0f} us")
            print(line, flush=True)
    step = results[1, 500]['step_seconds']
    nbytes = results[2, 500]['allreduce_bytes']
    print(f"\nEstimated speedup at per-rank batch 500 (step {step * 1e3:.0f}"
          f" ms on one rank), compute time per step unchanged:")
    for name, bandwidth, latency in NETWORKS:
        estimates = []
        for ranks in (8, 64):
            # The gradients' Allreduce, and the stop flags' (latency only).
            exchange = (allreduce_estimate(ranks, nbytes, bandwidth, latency)
                        + 2 * (ranks - 1).bit_length() * latency)
            speedup = ranks * step / (step + exchange)
            estimates.append(f"{ranks} ranks {speedup:.1f}x (exchange "
                             f"{exchange * 1e3:.2f} ms)")
        print(f"  {name}: " + ', '.join(estimates))


if __name__ == '__main__':
    main()
