"""Train an MLP on the bundled 8x8 digits: the README's main job.

Run ``python -m blocks.demo``. It builds an MLP from bricks, trains it with
:class:`~blocks.algorithms.GradientDescent` through
:class:`~blocks.main_loop.MainLoop`, monitors a held-out split, keeps the
latest and the best checkpoint, writes a sqlite log and redraws its training
curves (``curves.png``, with the ``plot`` extra) after every epoch. Ctrl + C
stops it at the end of the epoch (twice: after the batch); ``blocks-continue
<output>/checkpoint.tar`` resumes it. Everything goes to ``blocks-demo/``.
"""
import argparse
import importlib.util
import os
import sys

import pytensor
from pytensor import tensor

from blocks.algorithms import Adam, GradientDescent
from blocks.bricks import MLP, Rectifier, Softmax
from blocks.bricks.cost import CategoricalCrossEntropy, MisclassificationRate
from blocks.data.datasets.digits import Digits
from blocks.data.schemes import SequentialScheme, ShuffledScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Flatten
from blocks.extensions import (FinishAfter, Printing, ProgressBar,
                               TerminateOnNonFinite, Timing)
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.extensions.plot import Plot
from blocks.extensions.predicates import OnLogRecord
from blocks.extensions.saveload import Checkpoint
from blocks.extensions.training import TrackTheBest
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.log import SQLiteLog
from blocks.main_loop import MainLoop
from blocks.model import Model

#: The records drawn in ``curves.png``: costs in one panel, error rates in
#: the other.
CURVES = ['train_cost+valid_cost', 'train_error_rate+valid_error_rate']


def digits_stream(which_set: str, batch_size: int, shuffled: bool):
    """A stream of flattened 64-pixel digits and their labels."""
    dataset = Digits((which_set,))
    scheme_class = ShuffledScheme if shuffled else SequentialScheme
    scheme = scheme_class(dataset.num_examples, batch_size)
    return Flatten(DataStream(dataset, iteration_scheme=scheme),
                   which_sources=('features',))


def build_main_loop(output_dir: str, epochs: int = 60,
                    batch_size: int = 32, hidden: int = 100,
                    learning_rate: float = 0.003,
                    print_every: int = 10) -> MainLoop:
    """The demo's main loop, ready to ``run()``.

    Parameters
    ----------
    output_dir
        Where the checkpoints (``checkpoint.tar``, ``best.tar``), the
        sqlite log (``log.sqlite``) and the training curves
        (``curves.png``, when matplotlib is installed) are written.
    epochs
        Number of epochs to train for.
    batch_size
        Examples per training batch.
    hidden
        Units in the hidden layer.
    learning_rate
        Adam's learning rate.
    print_every
        Print the status every this many epochs.
    """
    os.makedirs(output_dir, exist_ok=True)
    features = tensor.matrix('features')
    targets = tensor.lmatrix('targets')

    mlp = MLP([Rectifier(), Softmax()], [64, hidden, 10],
              weights_init=IsotropicGaussian(0.1), biases_init=Constant(0),
              seed=1)
    mlp.initialize()
    probabilities = mlp.apply(features)
    cost = CategoricalCrossEntropy().apply(targets.flatten(), probabilities)
    cost.name = 'cost'
    error_rate = MisclassificationRate().apply(targets.flatten(),
                                               probabilities)
    error_rate.name = 'error_rate'

    graph = ComputationGraph([cost])
    algorithm = GradientDescent(
        cost=cost, parameters=graph.parameters,
        step_rule=Adam(learning_rate=learning_rate))

    checkpoint = Checkpoint(os.path.join(output_dir, 'checkpoint.tar'),
                            after_epoch=True)
    checkpoint.add_condition(['after_epoch'],
                             OnLogRecord('valid_error_rate_best_so_far'),
                             (os.path.join(output_dir, 'best.tar'),))
    extensions = [
        Timing(),
        ProgressBar(),
        TrainingDataMonitoring([cost, error_rate], prefix='train',
                               after_epoch=True),
        DataStreamMonitoring([cost, error_rate],
                             digits_stream('valid', 300, shuffled=False),
                             prefix='valid'),
        TrackTheBest('valid_error_rate'),
        # After the monitoring, before the checkpoint: a NaN cost stops
        # training before it can be saved over the last good checkpoint.
        TerminateOnNonFinite(),
        checkpoint,
        FinishAfter(after_n_epochs=epochs),
        Printing(after_epoch=False, every_n_epochs=print_every),
    ]
    if can_plot():
        extensions.append(Plot(curves_path(output_dir), CURVES,
                               title="8x8 digits, MLP"))
    return MainLoop(
        algorithm, digits_stream('train', batch_size, shuffled=True),
        model=Model(cost), extensions=extensions,
        log=SQLiteLog(database=os.path.join(output_dir, 'log.sqlite')))


def can_plot() -> bool:
    """Whether matplotlib (the ``plot`` extra) is installed."""
    return importlib.util.find_spec('matplotlib') is not None


def curves_path(output_dir: str) -> str:
    """The PNG of the training curves."""
    return os.path.join(output_dir, 'curves.png')


def report(main_loop: MainLoop, output_dir: str) -> float:
    """Print the best held-out accuracy and where the files are."""
    best_error = main_loop.log.status.get('best_valid_error_rate')
    accuracy = float('nan') if best_error is None else 1 - float(best_error)
    print(f"Best held-out accuracy: {accuracy:.2%} "
          f"(after {main_loop.log.status['epochs_done']} epochs)")
    print(f"Latest checkpoint: {os.path.join(output_dir, 'checkpoint.tar')}")
    print(f"Best checkpoint:   {os.path.join(output_dir, 'best.tar')}")
    print(f"Training log:      {main_loop.log.database} "
          f"(run {main_loop.log.run_id})")
    if can_plot():
        print(f"Training curves:   {curves_path(output_dir)}")
    else:
        print("Training curves:   not drawn: install the plot extra "
              "(pip install 'blocks[plot]')")
    print(f"Look at the run:   blocks-log show {main_loop.log.database} "
          f"--records train_cost,valid_error_rate")
    print(f"Resume with: blocks-continue "
          f"{os.path.join(output_dir, 'checkpoint.tar')}")
    return accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train an MLP on the 8x8 handwritten digits.")
    parser.add_argument('--output-dir', default='blocks-demo',
                        help="where checkpoints and the log go "
                             "(default: %(default)s)")
    parser.add_argument('--epochs', type=int, default=60)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--hidden', type=int, default=100)
    parser.add_argument('--learning-rate', type=float, default=0.003)
    parser.add_argument('--print-every', type=int, default=10)
    args = parser.parse_args(argv)
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(
            args.output_dir, epochs=args.epochs, batch_size=args.batch_size,
            hidden=args.hidden, learning_rate=args.learning_rate,
            print_every=args.print_every)
        main_loop.run()
    report(main_loop, args.output_dir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
