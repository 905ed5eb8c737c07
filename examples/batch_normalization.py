"""Train a batch-normalized MLP: the ``batch_normalization`` example.

Run ``python -m examples.batch_normalization`` from the repository root. A
:class:`~blocks.bricks.BatchNormalizedMLP` (64 inputs, 100 rectified
hidden units, 10 softmax outputs, a batch normalization before each
activation) is trained on the 8x8 digits bundled with scikit-learn
(:class:`~blocks.data.datasets.digits.Digits`) in *training mode*, each
layer normalized by the statistics of the minibatch
(:func:`~blocks.graph.apply_batch_normalization`). Every step also moves
the population statistics a little towards the minibatch's (an
exponential moving average of the pairs from
:func:`~blocks.graph.get_batch_normalization_updates`). The held-out error
rate is monitored on the original graph, in *inference mode*, which
normalizes by those population statistics: it reaches at least 95%
held-out accuracy (the ``valid`` split) after 5 epochs, which
``tests/test_examples_vision.py`` checks.
"""
import argparse
import sys

import numpy
import pytensor
from pytensor import tensor

from blocks.algorithms import Adam, GradientDescent
from blocks.bricks import BatchNormalizedMLP, Rectifier, Softmax
from blocks.bricks.cost import CategoricalCrossEntropy, MisclassificationRate
from blocks.data.datasets.digits import Digits
from blocks.data.schemes import SequentialScheme, ShuffledScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Cast, Flatten
from blocks.extensions import FinishAfter, Printing, Timing
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.graph import (
    ComputationGraph,
    apply_batch_normalization,
    get_batch_normalization_updates,
)
from blocks.initialization import Constant, IsotropicGaussian
from blocks.main_loop import MainLoop
from blocks.model import Model


def digits_stream(which_set: str, batch_size: int, *, shuffled: bool,
                  seed: int = 1) -> Cast:
    """Batches of flattened floatX 64-pixel digits and their labels."""
    dataset = Digits((which_set,))
    if shuffled:
        scheme = ShuffledScheme(dataset.num_examples, batch_size,
                                rng=numpy.random.RandomState(seed))
    else:
        scheme = SequentialScheme(dataset.num_examples, batch_size)
    stream = Flatten(DataStream(dataset, iteration_scheme=scheme),
                     which_sources=('features',))
    return Cast(stream, pytensor.config.floatX, which_sources=('features',))


def build_main_loop(*, num_epochs: int = 5, batch_size: int = 32,
                    hidden: int = 100, learning_rate: float = 0.01,
                    decay: float = 0.05, seed: int = 1) -> MainLoop:
    """The example's main loop, ready to ``run()``.

    Parameters
    ----------
    num_epochs
        Epochs to train for.
    batch_size
        Examples per training batch.
    hidden
        Units in the hidden layer.
    learning_rate
        Adam's learning rate.
    decay
        Weight of each minibatch in the moving average of the population
        statistics.
    seed
        Seed of the initial weights and of the order of the examples.

    """
    x = tensor.matrix('features')
    y = tensor.lmatrix('targets')
    mlp = BatchNormalizedMLP([Rectifier(), Softmax()], [64, hidden, 10],
                             weights_init=IsotropicGaussian(0.1),
                             biases_init=Constant(0), seed=seed)
    mlp.initialize()

    # The inference graph: normalized by the population statistics.
    probs = mlp.apply(x)
    cost = CategoricalCrossEntropy().apply(y.flatten(), probs)
    cost.name = 'cost'
    error_rate = MisclassificationRate().apply(y.flatten(), probs)
    error_rate.name = 'error_rate'

    # The training graph: normalized by the minibatch statistics.
    training_graph = apply_batch_normalization(
        ComputationGraph([cost, error_rate]))
    train_cost, train_error_rate = training_graph.outputs
    population_updates = get_batch_normalization_updates(training_graph)
    moving_averages = [
        (population, (1 - decay) * population + decay * minibatch)
        for population, minibatch in population_updates]

    algorithm = GradientDescent(cost=train_cost,
                                parameters=training_graph.parameters,
                                step_rule=Adam(learning_rate=learning_rate))
    algorithm.add_updates(moving_averages)
    extensions = [
        Timing(),
        FinishAfter(after_n_epochs=num_epochs),
        DataStreamMonitoring([cost, error_rate],
                             digits_stream('valid', 300, shuffled=False),
                             prefix='held_out'),
        TrainingDataMonitoring([train_cost, train_error_rate],
                               prefix='train', after_epoch=True),
        Printing(),
    ]
    return MainLoop(algorithm,
                    digits_stream('train', batch_size, shuffled=True,
                                  seed=seed),
                    model=Model(train_cost), extensions=extensions)


def held_out_accuracy(main_loop: MainLoop) -> float:
    """Inference-mode accuracy on the held-out split after the last
    epoch."""
    return 1 - float(main_loop.log.last_epoch_row['held_out_error_rate'])


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, train and print the held-out accuracy."""
    parser = argparse.ArgumentParser(
        description="Train a batch-normalized MLP on the 8x8 digits.")
    parser.add_argument('--num-epochs', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--hidden', type=int, default=100)
    parser.add_argument('--learning-rate', type=float, default=0.01)
    parser.add_argument('--decay', type=float, default=0.05,
                        help="weight of each minibatch in the moving "
                             "average of the population statistics "
                             "(default: %(default)s)")
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.num_epochs, args.batch_size, args.hidden) < 1:
        parser.error("--num-epochs, --batch-size and --hidden must be at "
                     "least 1")
    if not 0 < args.decay <= 1:
        parser.error(f"--decay must be in (0, 1], got {args.decay}")
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(
            num_epochs=args.num_epochs, batch_size=args.batch_size,
            hidden=args.hidden, learning_rate=args.learning_rate,
            decay=args.decay, seed=args.seed)
        main_loop.run()
    print(f"Held-out accuracy (inference mode) after "
          f"{main_loop.status['epochs_done']} epochs: "
          f"{held_out_accuracy(main_loop):.2%}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
