"""Data-parallel training of an MLP on the bundled digits, over MPI.

Run it on one machine with 2 processes::

    mpirun -n 2 python -m examples.distributed

or on several machines listed in a hostfile (see docs/distributed.rst)::

    mpirun -n 8 --hostfile hosts python -m examples.distributed

or without ``mpirun``, in one process, exactly as a plain script. The
script is :mod:`blocks.demo`'s with the three changes data-parallel
training needs, marked ``# data parallel``: the algorithm averages the
gradients across the ranks, the training stream's scheme is sharded
(``--batch-size`` is the *global* batch, split among the ranks), and the
main loop coordinates the ranks. Rank 0 alone prints, checkpoints and
writes the sqlite log. ``mpirun -n 2 blocks-continue
<output>/checkpoint.tar`` resumes a stopped run on 2 ranks.
"""
import argparse
import os
import sys
import time

import pytensor
from pytensor import tensor

from blocks.algorithms import Adam
from blocks.bricks import MLP, Rectifier, Softmax
from blocks.bricks.cost import CategoricalCrossEntropy, MisclassificationRate
from blocks.data.datasets.digits import Digits
from blocks.data.schemes import SequentialScheme, ShuffledScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Flatten
from blocks.distributed import (DistributedGradientDescent,
                                DistributedMainLoop, ShardedScheme, world)
from blocks.extensions import FinishAfter, Printing, Timing
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.extensions.saveload import Checkpoint
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.log import SQLiteLog
from blocks.model import Model


def digits_stream(which_set: str, batch_size: int, shuffled: bool):
    """A stream of flattened digits, each batch split among the ranks."""
    dataset = Digits((which_set,))
    scheme_class = ShuffledScheme if shuffled else SequentialScheme
    scheme = scheme_class(dataset.num_examples, batch_size)
    # data parallel: every rank reads its own part of each batch.
    return Flatten(DataStream(dataset,
                              iteration_scheme=ShardedScheme(scheme)),
                   which_sources=('features',))


def build_main_loop(output_dir: str, epochs: int = 20,
                    batch_size: int = 64, hidden: int = 100,
                    learning_rate: float = 0.003) -> DistributedMainLoop:
    """The example's main loop, ready to ``run()`` on every rank.

    Parameters
    ----------
    output_dir
        Where rank 0 writes ``checkpoint.tar`` and ``log.sqlite``.
    epochs
        Number of epochs to train for.
    batch_size
        Examples per global batch (all ranks together).
    hidden
        Units in the hidden layer.
    learning_rate
        Adam's learning rate.

    """
    features = tensor.matrix('features')
    targets = tensor.lmatrix('targets')
    # The same seed on every rank: the same initial parameters.
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
    # data parallel: gradients averaged across the ranks before Adam.
    algorithm = DistributedGradientDescent(
        cost=cost, parameters=graph.parameters,
        step_rule=Adam(learning_rate=learning_rate))
    extensions = [
        Timing(),
        TrainingDataMonitoring([cost, error_rate], prefix='train',
                               after_epoch=True),
        DataStreamMonitoring([cost, error_rate],
                             digits_stream('valid', 300, shuffled=False),
                             prefix='valid'),
        Checkpoint(os.path.join(output_dir, 'checkpoint.tar'),
                   every_n_epochs=5),
        FinishAfter(after_n_epochs=epochs),
        Printing(after_epoch=False, every_n_epochs=5),
    ]
    log = None
    if world().rank == 0:
        os.makedirs(output_dir, exist_ok=True)
        log = SQLiteLog(database=os.path.join(output_dir, 'log.sqlite'))
    # data parallel: the main loop that coordinates the ranks.
    return DistributedMainLoop(
        algorithm, digits_stream('train', batch_size, shuffled=True),
        model=Model(cost), extensions=extensions, log=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train an MLP on the 8x8 digits, on every MPI rank.")
    parser.add_argument('--output-dir', default='blocks-distributed',
                        help="where rank 0 writes the checkpoint and the "
                             "log (default: %(default)s)")
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--batch-size', type=int, default=64,
                        help="the global batch size, split among the "
                             "ranks (default: %(default)s)")
    parser.add_argument('--hidden', type=int, default=100)
    parser.add_argument('--learning-rate', type=float, default=0.003)
    args = parser.parse_args(argv)
    comm = world()
    if args.batch_size < comm.size:
        parser.error(f"--batch-size {args.batch_size} is smaller than the "
                     f"number of ranks, {comm.size}")
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(
            args.output_dir, epochs=args.epochs, batch_size=args.batch_size,
            hidden=args.hidden, learning_rate=args.learning_rate)
        start = time.perf_counter()
        main_loop.run()
        seconds = time.perf_counter() - start
    if comm.rank == 0:
        # Training finishes after an epoch: the last row has its records.
        error = float(main_loop.log.current_row['valid_error_rate'])
        print(f"{comm.size} rank(s): held-out error rate {error:.2%} after "
              f"{main_loop.status['epochs_done']} epochs "
              f"({seconds:.1f} s with compilation)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
