"""How much do the monitoring extensions cost?

1. ``TrainingDataMonitoring`` on every batch against no monitoring, for an
   MLP 784-500-10 (tanh, softmax cross-entropy, batch 100, float32,
   ``GradientDescent(step_rule=Scale(0.1))``): time per training step, from
   ``time.perf_counter`` stamps taken after every batch (compilation and
   warm-up batches excluded). Target: at most 5% more time per step.
2. ``DataStreamMonitoring`` over a validation set against a bare compiled
   evaluation loop (the same cost function, compiled alone, called on every
   batch, the mean taken in Python). Target: at least 0.9x the throughput.

Configurations are measured in alternation, several rounds, and the median
per round is reported, so that a noisy machine affects all alike.

Run: ``python benchmarks/monitoring_overhead.py [--rounds 5] [--batches 200]``
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault('PYTENSOR_FLAGS', 'floatX=float32')
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

import numpy  # noqa: E402
import pytensor  # noqa: E402
from pytensor import tensor  # noqa: E402

from blocks.algorithms import GradientDescent, Scale  # noqa: E402
from blocks.bricks import MLP, Softmax, Tanh  # noqa: E402
from blocks.bricks.cost import (CategoricalCrossEntropy,  # noqa: E402
                                MisclassificationRate)
from blocks.compilation import function  # noqa: E402
from blocks.extensions import (CallbackName, FinishAfter,  # noqa: E402
                               TrainingExtension)
from blocks.extensions.monitoring import (DataStreamMonitoring,  # noqa: E402
                                          TrainingDataMonitoring)
from blocks.graph import ComputationGraph  # noqa: E402
from blocks.initialization import Constant, IsotropicGaussian  # noqa: E402
from blocks.log import TrainingLog  # noqa: E402
from blocks.main_loop import MainLoop  # noqa: E402

BATCH_SIZE = 100
floatX = pytensor.config.floatX


def build_mlp():
    """The MLP, its cost and error rate, and its parameters."""
    x = tensor.matrix('features')
    y = tensor.lmatrix('targets')
    mlp = MLP([Tanh(), Softmax()], [784, 500, 10],
              weights_init=IsotropicGaussian(0.01), biases_init=Constant(0))
    mlp.initialize()
    probs = mlp.apply(x)
    cost = CategoricalCrossEntropy().apply(y.flatten(), probs)
    error = MisclassificationRate().apply(y.flatten(), probs)
    cost.name = 'cost'
    error.name = 'error_rate'
    return x, y, cost, error, ComputationGraph(cost).parameters


class Batches:
    """Pre-built batches: the data stream costs (almost) nothing."""

    sources = ('features', 'targets')

    def __init__(self, n_batches, seed):
        rng = numpy.random.RandomState(seed)
        self.batches = [
            {'features': rng.uniform(size=(BATCH_SIZE, 784)).astype(floatX),
             'targets': rng.randint(10, size=(BATCH_SIZE, 1))}
            for _ in range(n_batches)]

    def get_epoch_iterator(self, as_dict=False):
        return iter(self.batches)


class StepClock(TrainingExtension):
    """Stamps ``perf_counter`` after every batch."""

    def __init__(self):
        super().__init__()
        self.stamps = []

    def after_batch(self, batch):
        self.stamps.append(time.perf_counter())


def build_loop(monitored, batches, graph):
    """A main loop that trains for one epoch each time `run` is called."""
    x, y, cost, error, parameters = graph
    algorithm = GradientDescent(cost=cost, parameters=parameters,
                                step_rule=Scale(0.1))
    clock = StepClock()
    extensions = [clock]
    if monitored:
        extensions.append(TrainingDataMonitoring(monitored, after_batch=True))
    # Every epoch requests a finish; `run()` again resumes for one more
    # epoch, without compiling again.
    extensions.append(FinishAfter(every_n_epochs=1))
    return MainLoop(algorithm, batches, extensions=extensions), clock


def benchmark_training(rounds, n_batches, warmup, n_calls):
    graph = build_mlp()
    _, _, cost, error, _ = graph
    batches = Batches(n_batches, seed=0)
    configurations = [('no monitoring', []),
                      ('TrainingDataMonitoring([cost])', [cost]),
                      ('TrainingDataMonitoring([cost, error_rate])',
                       [cost, error])]
    loops = {name: build_loop(monitored, batches, graph)
             for name, monitored in configurations}
    results = {name: [] for name, _ in configurations}
    # Round 0 compiles and warms up; it is not counted.
    for round_ in range(rounds + 1):
        for name, _ in configurations:
            main_loop, clock = loops[name]
            clock.stamps = []
            main_loop.run()
            steps = numpy.diff(clock.stamps[warmup:])
            if round_:
                results[name].append((float(numpy.median(steps)),
                                      float(numpy.mean(steps))))
    print(f"MLP 784-500-10, batch {BATCH_SIZE}, {floatX}, "
          f"{n_batches} steps per epoch ({warmup} not timed), {rounds} "
          f"rounds of one epoch per configuration, in alternation")
    base = statistics.median(median for median, _ in
                             results['no monitoring'])
    for name, _ in configurations:
        median = statistics.median(m for m, _ in results[name])
        mean = statistics.median(m for _, m in results[name])
        print(f"  {name:45s} {1000 * median:8.3f} ms/step (median; mean "
              f"{1000 * mean:.3f})  {100 * (median / base - 1):+6.2f}%")
    print("  Per batch, TrainingDataMonitoring's after_batch callbacks "
          "(readout, reset, log writes;\n  the accumulation runs inside the "
          "training function), median of 1000 calls:")
    batch = batches.batches[0]
    callbacks = {}
    for name, _ in configurations[1:]:
        main_loop, _ = loops[name]
        monitor = next(extension for extension in main_loop.extensions
                       if isinstance(extension, TrainingDataMonitoring))
        seconds = median_call_seconds(
            lambda monitor=monitor: monitor.dispatch(
                CallbackName('after_batch'), batch))
        print(f"  {name:45s} {1e6 * seconds:8.1f} us/step  "
              f"{100 * seconds / base:5.2f}% of a step")
        callbacks[name] = seconds
    # The training function alone, with and without the accumulation
    # updates, calls interleaved one by one: robust to a busy machine.
    calls = {name: (lambda algorithm=loops[name][0].algorithm:
                    algorithm.process_batch(batch))
             for name, _ in configurations}
    medians = alternating_medians(calls, n_calls)
    print(f"  Training function alone (algorithm.process_batch), "
          f"{n_calls} interleaved calls each, median;\n  with the callbacks "
          f"above added, the total overhead per step:")
    for name, _ in configurations:
        seconds = medians[name]
        extra = seconds - medians['no monitoring'] + callbacks.get(name, 0.)
        print(f"  {name:45s} {1000 * seconds:8.3f} ms/step  total overhead "
              f"{100 * extra / medians['no monitoring']:+6.2f}%")


def alternating_medians(calls, n):
    """Median seconds per call of each callable, calls interleaved."""
    times = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def median_call_seconds(call, n=1000):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def benchmark_validation(rounds, n_batches, n_calls):
    x, y, cost, error, _ = build_mlp()
    batches = Batches(n_batches, seed=1)
    bare = function([x, y], [cost, error])

    def bare_loop():
        costs, errors = [], []
        for batch in batches.get_epoch_iterator(as_dict=True):
            batch_cost, batch_error = bare(batch['features'],
                                           batch['targets'])
            costs.append(batch_cost)
            errors.append(batch_error)
        return numpy.mean(costs), numpy.mean(errors)

    monitoring = DataStreamMonitoring([cost, error], batches, prefix='valid')

    class Loop:
        log = TrainingLog()

    monitoring.main_loop = Loop()
    monitoring._prepare()  # compiles, as before training

    def monitored_loop():
        monitoring.do('after_epoch')
        row = Loop.log.current_row
        return row['valid_cost'], row['valid_error_rate']

    numpy.testing.assert_allclose(bare_loop(), monitored_loop(), rtol=1e-5)
    timings = {'bare compiled loop': [], 'DataStreamMonitoring': []}
    for _ in range(rounds):
        for name, run in (('bare compiled loop', bare_loop),
                          ('DataStreamMonitoring', monitored_loop)):
            start = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - start)
    examples = n_batches * BATCH_SIZE
    print(f"Validation: {examples} examples in batches of {BATCH_SIZE}, "
          f"cost and error rate, {rounds} rounds in alternation "
          f"(throughput of the median round; of the fastest round)")
    bare_median = statistics.median(timings['bare compiled loop'])
    bare_min = min(timings['bare compiled loop'])
    for name, values in timings.items():
        median, fastest = statistics.median(values), min(values)
        print(f"  {name:45s} {examples / median:8.0f} examples/s "
              f"{bare_median / median:.3f}x; {examples / fastest:8.0f} "
              f"examples/s {bare_min / fastest:.3f}x")
    batch = batches.batches[0]
    evaluator = monitoring._evaluator
    medians = alternating_medians(
        {'bare compiled loop': lambda: bare(batch['features'],
                                            batch['targets']),
         'DataStreamMonitoring': lambda: evaluator.process_batch(batch)},
        n_calls)
    print(f"  Per batch, {n_calls} interleaved calls each, median:")
    for name, seconds in medians.items():
        print(f"  {name:45s} {1000 * seconds:8.3f} ms/batch "
              f"{medians['bare compiled loop'] / seconds:.3f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--batches', type=int, default=200)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--validation-batches', type=int, default=100)
    parser.add_argument('--calls', type=int, default=300,
                        help='interleaved calls for the per-call medians')
    args = parser.parse_args()
    benchmark_training(args.rounds, args.batches, args.warmup, args.calls)
    benchmark_validation(args.rounds, args.validation_batches, args.calls)


if __name__ == '__main__':
    main()
