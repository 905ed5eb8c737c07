"""Training speed of one MLP step: MainLoop vs bare loop vs NumPy.

The network is the classic MNIST MLP: 784-500-10, tanh hidden layer,
softmax cross-entropy, plain SGD, minibatches of 100, float32. The script
trains it in one process

* through :class:`~blocks.main_loop.MainLoop` (data stream, log, profile,
  extension dispatch),
* by calling the very same compiled function in a bare Python loop, and
  through ``algorithm.process_batch`` (source matching),
* with a hand-written NumPy implementation of the same step,

interleaving the measurements over several rounds so that the load from
other processes affects all of them alike, and prints examples per second
(best and median), the ratios, and the mode, linker and BLAS in use.

Usage::

    python benchmarks/training_step.py [--rounds 5] [--batches 100]
        [--linker default|cvm|numba|py] [--compare-linkers] [--profile]

``--compare-linkers`` also times the bare loop for every linker (and the
C linker without BLAS) in the same process. ``--profile`` prints PyTensor's
per-op profile of the training function. Set ``OPENBLAS_NUM_THREADS=1`` on
a shared machine: a busy CPU makes multi-threaded BLAS many times slower.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy
import pytensor

# Run from a checkout without installing blocks.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Before any variable is built: bricks create parameters of floatX.
pytensor.config.floatX = 'float32'

from pytensor import tensor  # noqa: E402
from pytensor.compile.mode import Mode, get_mode  # noqa: E402

from blocks.algorithms import GradientDescent, Scale  # noqa: E402
from blocks.bricks import MLP, Softmax, Tanh  # noqa: E402
from blocks.compilation import configure_blas, describe  # noqa: E402
from blocks.data.datasets import IterableDataset  # noqa: E402
from blocks.data.streams import DataStream  # noqa: E402
from blocks.extensions import FinishAfter  # noqa: E402
from blocks.graph import ComputationGraph  # noqa: E402
from blocks.initialization import Constant, IsotropicGaussian  # noqa: E402
from blocks.main_loop import MainLoop  # noqa: E402

DIMS = [784, 500, 10]
BATCH_SIZE = 100
LEARNING_RATE = 0.1


def linker_mode(name):
    """A PyTensor mode for a ``--linker`` name (``None``: blocks' default)."""
    return {'default': None,
            'cvm': Mode(linker='cvm'),
            'numba': get_mode('NUMBA'),
            # Without fusion, Python thunks call NumPy ufuncs instead of
            # looping over elements in Python.
            'py': Mode(linker='py').excluding('fusion')}[name]


def make_batches(n_batches, seed=1):
    rng = numpy.random.RandomState(seed)
    features = rng.rand(n_batches, BATCH_SIZE, DIMS[0]).astype('float32')
    targets = rng.randint(0, DIMS[-1], (n_batches, BATCH_SIZE))
    return list(features), list(targets.astype('int64'))


def build_algorithm(mode):
    features = tensor.matrix('features')
    targets = tensor.lvector('targets')
    mlp = MLP([Tanh(), None], DIMS, weights_init=IsotropicGaussian(0.01),
              biases_init=Constant(0))
    mlp.initialize()
    cost = Softmax().categorical_cross_entropy(
        targets, mlp.apply(features)).mean()
    parameters = ComputationGraph(cost).parameters
    kwargs = {} if mode is None else {'mode': mode}
    return GradientDescent(cost=cost, parameters=parameters,
                           step_rule=Scale(LEARNING_RATE),
                           theano_func_kwargs=kwargs)


class NumpyMLP:
    """The same step written with NumPy, updating arrays in place."""

    def __init__(self, seed=1):
        rng = numpy.random.RandomState(seed)
        self.W1 = (0.01 * rng.randn(DIMS[0], DIMS[1])).astype('float32')
        self.b1 = numpy.zeros(DIMS[1], dtype='float32')
        self.W2 = (0.01 * rng.randn(DIMS[1], DIMS[2])).astype('float32')
        self.b2 = numpy.zeros(DIMS[2], dtype='float32')
        self.rate = numpy.float32(LEARNING_RATE)

    def step(self, x, y):
        h = numpy.tanh(x @ self.W1 + self.b1)
        logits = h @ self.W2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        p = numpy.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        # Gradient of the mean cross-entropy with respect to the logits.
        p[numpy.arange(len(y)), y] -= 1
        p /= numpy.float32(len(y))
        dh = (p @ self.W2.T) * (1 - h * h)
        self.W2 -= self.rate * (h.T @ p)
        self.b2 -= self.rate * p.sum(axis=0)
        self.W1 -= self.rate * (x.T @ dh)
        self.b1 -= self.rate * dh.sum(axis=0)


def time_loop(run, n_examples):
    start = time.perf_counter()
    run()
    return n_examples / (time.perf_counter() - start)


def summary(rates):
    return f"best {max(rates):9.0f}  median {statistics.median(rates):9.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--batches', type=int, default=100,
                        help='batches per measurement')
    parser.add_argument('--linker', default='default',
                        choices=['default', 'cvm', 'numba', 'py'])
    parser.add_argument('--compare-linkers', action='store_true')
    parser.add_argument('--profile', action='store_true')
    args = parser.parse_args()

    configure_blas()
    mode = linker_mode(args.linker)
    info = describe(mode)
    print(f"linker: {info['linker']}  rewrites: {info['optimizer']}  "
          f"floatX: {pytensor.config.floatX}")
    print(f"BLAS: {info['blas']}")

    features, targets = make_batches(args.batches)
    batches = [{'features': x, 'targets': y}
               for x, y in zip(features, targets, strict=True)]
    n_examples = args.batches * BATCH_SIZE

    algorithm = build_algorithm(mode)
    start = time.perf_counter()
    algorithm.initialize()
    algorithm.process_batch(batches[0])
    print(f"compile + first call: {time.perf_counter() - start:.2f} s")
    function = algorithm._function
    # Every MainLoop.run initializes its algorithm, which would recompile
    # the function for each measurement; compile time is reported above.
    algorithm.initialize = lambda: None
    numpy_mlp = NumpyMLP()

    def bare():
        for x, y in zip(features, targets):
            function(x, y)

    def process_batch():
        for batch in batches:
            algorithm.process_batch(batch)

    def numpy_step():
        for x, y in zip(features, targets):
            numpy_mlp.step(x, y)

    dataset = IterableDataset({'features': features, 'targets': targets})

    profiles = []

    def main_loop():
        loop = MainLoop(algorithm, DataStream(dataset),
                        extensions=[FinishAfter(after_n_epochs=1)])
        loop.run()
        profiles.append(loop.profile)

    variants = {}
    if args.compare_linkers:
        compared = {'cvm (no NumPy ufuncs)': (Mode(linker='cvm'), None),
                    'numba': (linker_mode('numba'), None),
                    'py': (linker_mode('py'), None),
                    'cvm without BLAS': (Mode(linker='cvm'), '')}
        for name, (other_mode, ldflags) in compared.items():
            flags = {} if ldflags is None else {'blas__ldflags': ldflags}
            # Compiling happens in initialize and the first call: both
            # under the flags.
            with pytensor.config.change_flags(**flags):
                start = time.perf_counter()
                other = build_algorithm(other_mode)
                other.initialize()
                other.process_batch(batches[0])
            print(f"bare loop, {name}: compile + first call "
                  f"{time.perf_counter() - start:.2f} s")
            variants[f'bare loop, {name}'] = other

    def bare_with(other):
        def run():
            other_function = other._function
            for x, y in zip(features, targets):
                other_function(x, y)
        return run

    loops = {'MainLoop': main_loop, 'bare loop': bare,
             'process_batch loop': process_batch, 'NumPy': numpy_step}
    loops.update({name: bare_with(other) for name, other in variants.items()})
    rates = {name: [] for name in loops}
    order = list(loops)
    for round_ in range(args.rounds):
        # Rotated so that no variant always runs right after the same one.
        shift = round_ % len(order)
        for name in order[shift:] + order[:shift]:
            rates[name].append(time_loop(loops[name], n_examples))

    print(f"\nexamples/s over {args.rounds} rounds of {n_examples} "
          f"examples (batch {BATCH_SIZE}):")
    for name, values in rates.items():
        print(f"  {name:32s} {summary(values)}")
    bare_median = statistics.median(rates['bare loop'])
    print(f"MainLoop / bare: "
          f"{statistics.median(rates['MainLoop']) / bare_median:.3f} "
          f"(best {max(rates['MainLoop']) / max(rates['bare loop']):.3f})")
    print(f"NumPy / bare:    "
          f"{statistics.median(rates['NumPy']) / bare_median:.3f}")
    print("\nWhere the MainLoop's time goes (last round):")
    profiles[-1].report(sys.stdout)

    if args.profile:
        kwargs = dict(algorithm.theano_func_kwargs, profile=True)
        profiled = GradientDescent(cost=algorithm.cost,
                                   parameters=algorithm.parameters,
                                   step_rule=Scale(LEARNING_RATE),
                                   theano_func_kwargs=kwargs)
        profiled.initialize()
        for batch in batches:
            profiled.process_batch(batch)
        profiled._function.profile.summary(n_ops_to_print=12,
                                           n_apply_to_print=12)


if __name__ == '__main__':
    main()
