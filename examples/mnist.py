"""Train an MLP on MNIST: the ``mnist`` example of Blocks.

Run ``python -m examples.mnist`` from the repository root. MNIST is read
from ``mnist.hdf5`` in the data path (``BLOCKS_DATA_PATH``), which
``blocks-convert mnist`` builds from the four files of the MNIST
distribution; without it the script says how to build it and exits with
status 2. An MLP with a hidden layer of tanh units and a softmax output is
trained with a small L2 penalty on its weights by stochastic gradient
descent; the cost and the error rate are monitored on the test set after
every epoch, and the main loop is checkpointed at the end.
"""
import argparse
import os
import sys

import numpy
import pytensor
from pytensor import tensor

from blocks.algorithms import GradientDescent, Scale
from blocks.bricks import MLP, Softmax, Tanh
from blocks.bricks.cost import CategoricalCrossEntropy, MisclassificationRate
from blocks.data.datasets import MNIST
from blocks.data.exceptions import ConfigurationError
from blocks.data.schemes import SequentialScheme, ShuffledScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Cast, Flatten, ScaleAndShift
from blocks.data.utils import find_in_data_path
from blocks.extensions import FinishAfter, Printing, Timing
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.extensions.saveload import Checkpoint
from blocks.filter import VariableFilter
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.main_loop import MainLoop
from blocks.model import Model
from blocks.monitoring import aggregation
from blocks.roles import WEIGHT

#: Exit status when ``mnist.hdf5`` can not be found.
MISSING_DATA_STATUS = 2

MISSING_DATA_MESSAGE = """\
examples.mnist reads MNIST from the file mnist.hdf5 in the data path, and
could not find it:
  {reason}

To build the file:

  1. Download the four files of the MNIST distribution,
       train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
       t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
     (from http://yann.lecun.com/exdb/mnist/ or a mirror of it) into a
     directory, say ~/mnist-raw.
  2. Convert them into mnist.hdf5 in your data directory, say ~/data:
       mkdir -p ~/data
       blocks-convert mnist -d ~/mnist-raw -o ~/data
     (without the installed blocks-convert command, run
       python -m blocks.data.converters.cli mnist -d ~/mnist-raw -o ~/data
     from the repository root).
  3. Point the data path at that directory and run the example again:
       export BLOCKS_DATA_PATH=~/data
       python -m examples.mnist

BLOCKS_DATA_PATH (or FUEL_DATA_PATH) may list several directories separated
by '{pathsep}'; the first one that holds mnist.hdf5 is used."""


def missing_data_message() -> str | None:
    """The message saying how to build ``mnist.hdf5``, or ``None``.

    ``None`` when a directory of the data path holds the file; otherwise
    the message starts with why it was not found.
    """
    try:
        find_in_data_path(MNIST.filename)
    except (OSError, ConfigurationError) as exc:
        return MISSING_DATA_MESSAGE.format(reason=exc, pathsep=os.pathsep)
    return None


def mnist_stream(dataset: MNIST, batch_size: int, *, shuffled: bool,
                 seed: int = 1) -> Flatten:
    """Batches of flattened floatX pixels in [0, 1] and their labels."""
    num_examples = dataset.num_examples
    if shuffled:
        scheme = ShuffledScheme(num_examples, batch_size,
                                rng=numpy.random.RandomState(seed))
    else:
        scheme = SequentialScheme(num_examples, batch_size)
    stream = DataStream(dataset, iteration_scheme=scheme)
    # What DataStream.default_stream does for MNIST, but cast to
    # PyTensor's floatX rather than to the data layer's, which has no
    # default (FUEL_FLOATX).
    stream = ScaleAndShift(stream, 1 / 255.0, 0, which_sources=('features',))
    stream = Cast(stream, pytensor.config.floatX, which_sources=('features',))
    return Flatten(stream, which_sources=('features',))


def build_main_loop(train: MNIST, test: MNIST, save_path: str, *,
                    num_epochs: int = 2, batch_size: int = 50,
                    hidden: int = 100, learning_rate: float = 0.1,
                    weight_decay: float = 5e-5, seed: int = 1) -> MainLoop:
    """The MNIST example's main loop, ready to ``run()``.

    Parameters
    ----------
    train, test
        The training set and the set monitored after every epoch.
    save_path
        Where the checkpoint (a tar archive) is written after training.
    num_epochs
        Epochs to train for.
    batch_size
        Examples per training batch.
    hidden
        Tanh units in the hidden layer.
    learning_rate
        The learning rate of stochastic gradient descent.
    weight_decay
        Coefficient of the L2 penalty on the weights.
    seed
        Seed of the initial weights and of the order of the examples.

    Notes
    -----
    The graph and the data use PyTensor's ``floatX`` as it is when this
    function is called; :func:`main` builds and runs the loop in float32.

    """
    features_index = train.sources.index('features')
    input_dim = int(numpy.prod(
        train.data_sources[features_index].shape[1:]))

    mlp = MLP([Tanh(), Softmax()], [input_dim, hidden, 10],
              weights_init=IsotropicGaussian(0.01), biases_init=Constant(0),
              seed=seed)
    mlp.initialize()
    x = tensor.matrix('features')
    y = tensor.lmatrix('targets')
    probs = mlp.apply(x)
    cost = CategoricalCrossEntropy().apply(y.flatten(), probs)
    error_rate = MisclassificationRate().apply(y.flatten(), probs)
    error_rate.name = 'error_rate'

    graph = ComputationGraph([cost])
    weights = VariableFilter(roles=[WEIGHT])(graph.variables)
    cost = cost + weight_decay * sum((W ** 2).sum() for W in weights)
    cost.name = 'final_cost'

    algorithm = GradientDescent(
        cost=cost, parameters=graph.parameters,
        step_rule=Scale(learning_rate=learning_rate))
    extensions = [
        Timing(),
        FinishAfter(after_n_epochs=num_epochs),
        DataStreamMonitoring([cost, error_rate],
                             mnist_stream(test, 500, shuffled=False),
                             prefix='test'),
        TrainingDataMonitoring(
            [cost, error_rate,
             aggregation.mean(algorithm.total_gradient_norm)],
            prefix='train', after_epoch=True),
        Checkpoint(save_path),
        Printing(),
    ]
    return MainLoop(algorithm,
                    mnist_stream(train, batch_size, shuffled=True, seed=seed),
                    model=Model(cost), extensions=extensions)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, load MNIST, train and report.

    Returns 0, or :data:`MISSING_DATA_STATUS` (with a message on standard
    error saying how to build the file) when ``mnist.hdf5`` is missing.
    """
    parser = argparse.ArgumentParser(
        description="Train an MLP on the MNIST handwritten digits.")
    parser.add_argument('--num-epochs', type=int, default=2,
                        help="training epochs to do (default: %(default)s)")
    parser.add_argument('--save-path', default='blocks-demo/mnist/mnist.tar',
                        help="where the checkpoint is written (default: "
                             "%(default)s)")
    parser.add_argument('--batch-size', type=int, default=50)
    parser.add_argument('--hidden', type=int, default=100)
    parser.add_argument('--learning-rate', type=float, default=0.1)
    parser.add_argument('--weight-decay', type=float, default=5e-5,
                        help="coefficient of the L2 penalty on the weights")
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    for option in ('num_epochs', 'batch_size', 'hidden'):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1, "
                         f"got {getattr(args, option)}")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate must be positive, got "
                     f"{args.learning_rate}")
    if args.weight_decay < 0:
        parser.error(f"--weight-decay must not be negative, got "
                     f"{args.weight_decay}")

    message = missing_data_message()
    if message is not None:
        print(message, file=sys.stderr)
        return MISSING_DATA_STATUS
    train, test = MNIST(('train',)), MNIST(('test',))

    directory = os.path.dirname(args.save_path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(
            train, test, args.save_path, num_epochs=args.num_epochs,
            batch_size=args.batch_size, hidden=args.hidden,
            learning_rate=args.learning_rate,
            weight_decay=args.weight_decay, seed=args.seed)
        main_loop.run()
    error = main_loop.log.last_epoch_row.get('test_error_rate')
    if error is not None:
        print(f"Test error rate after {main_loop.status['epochs_done']} "
              f"epochs: {float(error):.2%}")
    print(f"Checkpoint: {args.save_path}")
    return 0


if __name__ == '__main__':
    # Run the module under its importable name rather than as __main__, so
    # that the checkpoint refers to examples.mnist and not to __main__.
    from examples import mnist
    sys.exit(mnist.main())
