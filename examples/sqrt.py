"""Teach an MLP to compute square roots: the ``sqrt`` example of Blocks.

Run ``python -m examples.sqrt`` from the repository root. The data is
generated: random numbers in [0, 1) (the ``numbers`` source) and, added by a
:class:`~blocks.data.transformers.Mapping`, their square roots (the
``roots`` source). An MLP with one hidden layer of tanh units learns to map
one to the other with a squared-error cost. The cost is monitored on
held-out numbers before training, after every epoch and at the end, and the
main loop is checkpointed after every epoch and at the end. Training stops
after ``--num-batches`` batches and prints the held-out cost before and after
training. Ctrl + C stops it early (at the end of the epoch; twice: after the
batch); ``blocks-continue blocks-demo/sqrt/sqrt.tar`` then resumes it.
"""
import argparse
import functools
import os
import sys
from collections.abc import Iterable

import numpy
import pytensor
from pytensor import tensor

from blocks.algorithms import Adam, GradientDescent
from blocks.bricks import MLP, Identity, Tanh
from blocks.bricks.cost import SquaredError
from blocks.data.datasets import IterableDataset
from blocks.data.schemes import ConstantScheme
from blocks.data.transformers import Batch, Mapping
from blocks.extensions import FinishAfter, Printing, Timing
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.extensions.saveload import Checkpoint
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.main_loop import MainLoop
from blocks.model import Model

#: The record of the held-out cost in the log.
HELD_OUT_COST = 'test_cost'


def _data_sqrt(data: tuple) -> tuple:
    """The ``roots`` source of an example: the root of its number."""
    return (numpy.sqrt(data[0]),)


def _array_tuple(data: tuple, dtype: str) -> tuple:
    """Cast every source of a batch to ``dtype``."""
    return tuple(numpy.asarray(source, dtype=dtype) for source in data)


def get_data_stream(numbers: Iterable[float], batch_size: int) -> Mapping:
    """A stream of batches of ``numbers`` and their square roots.

    Parameters
    ----------
    numbers
        An iterable of non-negative numbers, read in order once per epoch.
    batch_size
        Examples per batch (the last batch of an epoch may be smaller).

    Notes
    -----
    The batches are cast to PyTensor's ``floatX`` as it is when the stream
    is built.

    """
    dataset = IterableDataset({'numbers': numbers})
    # Module-level functions (and partials of them), not lambdas, so that
    # the checkpoint can pickle the stream.
    stream = Mapping(dataset.get_example_stream(), _data_sqrt,
                     add_sources=('roots',))
    stream = Batch(stream, iteration_scheme=ConstantScheme(batch_size))
    return Mapping(stream, functools.partial(
        _array_tuple, dtype=pytensor.config.floatX))


def build_main_loop(save_path: str, *, num_batches: int = 2000,
                    num_train: int = 1000, num_test: int = 200,
                    batch_size: int = 20, hidden: int = 10,
                    learning_rate: float = 0.01, print_every: int = 10,
                    seed: int = 1) -> MainLoop:
    """The sqrt example's main loop, ready to ``run()``.

    Parameters
    ----------
    save_path
        Where the checkpoint (a tar archive) is written.
    num_batches
        Training batches to do before stopping.
    num_train, num_test
        Numbers in the training and held-out sets.
    batch_size
        Examples per training batch.
    hidden
        Tanh units in the hidden layer.
    learning_rate
        Adam's learning rate.
    print_every
        Print the status every this many epochs (and at the end).
    seed
        Seed of the generated numbers and of the initial weights.

    Notes
    -----
    The graph and the data use PyTensor's ``floatX`` as it is when this
    function is called; :func:`main` builds and runs the loop in float32.

    """
    rng = numpy.random.RandomState(seed)
    train_numbers = rng.uniform(size=num_train)
    test_numbers = rng.uniform(size=num_test)

    mlp = MLP([Tanh(), Identity()], [1, hidden, 1],
              weights_init=IsotropicGaussian(0.1), biases_init=Constant(0),
              seed=seed)
    mlp.initialize()
    x = tensor.vector('numbers')
    y = tensor.vector('roots')
    cost = SquaredError().apply(y[:, None], mlp.apply(x[:, None]))
    cost.name = 'cost'

    algorithm = GradientDescent(
        cost=cost, parameters=ComputationGraph(cost).parameters,
        step_rule=Adam(learning_rate=learning_rate))
    extensions = [
        Timing(),
        FinishAfter(after_n_batches=num_batches),
        # Also after training, which can end in the middle of an epoch.
        DataStreamMonitoring([cost], get_data_stream(test_numbers, num_test),
                             prefix='test', after_training=True),
        TrainingDataMonitoring([cost], prefix='train', after_epoch=True),
        Checkpoint(save_path, after_epoch=True),
        Printing(after_epoch=False, every_n_epochs=print_every),
    ]
    return MainLoop(algorithm, get_data_stream(train_numbers, batch_size),
                    model=Model(cost), extensions=extensions)


def held_out_costs(main_loop: MainLoop) -> tuple[float, float]:
    """The held-out cost before the first and after the last batch."""
    log = main_loop.log
    return float(log[0][HELD_OUT_COST]), float(log.current_row[HELD_OUT_COST])


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, train, and print the held-out cost."""
    parser = argparse.ArgumentParser(
        description="Train an MLP to predict the square root of a number.")
    parser.add_argument('--num-batches', type=int, default=2000,
                        help="training batches to do (default: "
                             "%(default)s)")
    parser.add_argument('--save-path', default='blocks-demo/sqrt/sqrt.tar',
                        help="where the checkpoint is written (default: "
                             "%(default)s)")
    parser.add_argument('--batch-size', type=int, default=20)
    parser.add_argument('--num-train', type=int, default=1000,
                        help="numbers in the training set")
    parser.add_argument('--num-test', type=int, default=200,
                        help="numbers in the held-out set")
    parser.add_argument('--hidden', type=int, default=10)
    parser.add_argument('--learning-rate', type=float, default=0.01)
    parser.add_argument('--print-every', type=int, default=10,
                        help="print the status every this many epochs")
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    for option in ('num_batches', 'batch_size', 'num_train', 'num_test',
                   'hidden', 'print_every'):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1, "
                         f"got {getattr(args, option)}")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate must be positive, got "
                     f"{args.learning_rate}")

    directory = os.path.dirname(args.save_path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(
            args.save_path, num_batches=args.num_batches,
            num_train=args.num_train, num_test=args.num_test,
            batch_size=args.batch_size, hidden=args.hidden,
            learning_rate=args.learning_rate, print_every=args.print_every,
            seed=args.seed)
        main_loop.run()
    before, after = held_out_costs(main_loop)
    print(f"Held-out cost (squared error): {before:.6f} before training, "
          f"{after:.6f} after {main_loop.status['iterations_done']} "
          f"batches")
    print(f"Checkpoint: {args.save_path}")
    return 0


if __name__ == '__main__':
    # Run the module under its importable name rather than as __main__, so
    # that the checkpoint refers to examples.sqrt's functions and
    # blocks-continue can load it from anywhere the package imports.
    from examples import sqrt
    sys.exit(sqrt.main())
