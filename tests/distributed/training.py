"""A tiny data-parallel training run for the MPI tests.

Run as ``python -m tests.distributed.training DIRECTORY [options]``, with
or without ``mpirun -n N``: an MLP (8-16-3, Adam) on 64 examples with
random labels, global batch 16 (4 batches an epoch), validation cost every
epoch on a sharded stream, early stopping on it (patience 2 epochs, at most
30 epochs), training cost every epoch, a checkpoint every 3 batches. Every
rank writes its final parameters and log summary to
``DIRECTORY/rank<r>.npz`` and ``DIRECTORY/rank<r>.json``.

Options (for the tests): ``--endless`` trains until interrupted (and
writes ``DIRECTORY/pid<r>`` after the first batch); ``--kill N`` SIGKILLs
rank 1 after batch N; ``--fail N`` raises on rank 1 after batch N;
``--finish-on-rank1 N`` requests the finish on rank 1 only, after batch N;
Those four train without validation, early stopping and checkpoints.
``--continue`` continues the pickled main loop of the checkpoint, as
``mpirun -n 2 blocks-continue DIRECTORY/checkpoint.tar`` does.

The extensions live in this importable module so that checkpoints unpickle.
"""
import argparse
import json
import os
import signal

import numpy
from pytensor import tensor

from blocks.algorithms import Adam
from blocks.bricks import MLP, Softmax, Tanh
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import SequentialScheme, ShuffledScheme
from blocks.data.streams import DataStream
from blocks.distributed import (DistributedGradientDescent,
                                DistributedMainLoop, ShardedScheme, world)
from blocks.extensions import FinishAfter, SimpleExtension
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.extensions.saveload import Checkpoint
from blocks.extensions.stopping import EarlyStopping
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.model import Model
from blocks.serialization.core import load_main_loop

CHECKPOINT = 'checkpoint.tar'
GLOBAL_BATCH = 16


class OnRank(SimpleExtension):
    """After batch `at`, on rank `rank`: 'kill', 'fail' or 'finish'.

    A kill happens once: it leaves the file `marker`, so that the continued
    run goes past it.
    """

    def __init__(self, action, at, marker, rank=1, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.action, self.at, self.rank = action, at, rank
        self.marker = marker

    def do(self, which_callback, *args):
        if (world().rank != self.rank or
                self.main_loop.status['iterations_done'] != self.at):
            return
        if self.action == 'kill':
            if not os.path.exists(self.marker):
                open(self.marker, 'w').close()
                os.kill(os.getpid(), signal.SIGKILL)
        elif self.action == 'fail':
            raise RuntimeError("a failure planted by the test")
        else:
            self.main_loop.log.current_row['training_finish_requested'] = True


class WritePid(SimpleExtension):
    """Write this rank's pid to ``directory/pid<rank>`` after batch 1."""

    def __init__(self, directory, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.directory = directory

    def do(self, which_callback, *args):
        if self.main_loop.status['iterations_done'] == 1:
            path = os.path.join(self.directory, f'pid{world().rank}')
            with open(path + '.tmp', 'w') as file_:
                file_.write(str(os.getpid()))
            os.replace(path + '.tmp', path)


def data(seed, examples):
    rng = numpy.random.RandomState(seed)
    return {'features': rng.normal(size=(examples, 8)),
            'targets': rng.randint(3, size=(examples, 1))}


def build(directory, options):
    x = tensor.matrix('features')
    y = tensor.lmatrix('targets')
    mlp = MLP([Tanh(), Softmax()], [8, 16, 3],
              weights_init=IsotropicGaussian(0.3), biases_init=Constant(0))
    mlp.initialize()
    probabilities = mlp.apply(x)
    cost = -tensor.log(probabilities[tensor.arange(y.shape[0]),
                                     y.flatten()]).mean()
    cost.name = 'cost'
    graph = ComputationGraph([cost])
    algorithm = DistributedGradientDescent(
        cost=cost, parameters=graph.parameters, step_rule=Adam(0.02),
        check_every=1)
    train = DataStream(IndexableDataset(data(1, 64)),
                       iteration_scheme=ShardedScheme(ShuffledScheme(
                           64, GLOBAL_BATCH, rng=numpy.random.RandomState(3))))
    valid = DataStream(IndexableDataset(data(2, 40)),
                       iteration_scheme=ShardedScheme(
                           SequentialScheme(40, GLOBAL_BATCH)))
    checkpoint = os.path.join(directory, CHECKPOINT)
    extensions = [
        FinishAfter(after_n_epochs=1000 if options.endless else 30),
        TrainingDataMonitoring([cost], prefix='train', after_epoch=True)]
    # The tests of stopping and failing need no more (less to compile).
    if not (options.endless or options.fail or options.finish_on_rank1):
        extensions += [DataStreamMonitoring([cost], valid, prefix='valid'),
                       EarlyStopping('valid_cost', epochs=2),
                       Checkpoint(checkpoint, every_n_batches=3)]
    if options.endless:
        extensions.append(WritePid(directory))
    for action in ('kill', 'fail', 'finish_on_rank1'):
        at = getattr(options, action)
        if at is not None:
            extensions.append(OnRank(action.split('_')[0], at,
                                     os.path.join(directory, 'killed')))
    return DistributedMainLoop(algorithm, train, model=Model(cost),
                               extensions=extensions)


def summary(main_loop):
    log = main_loop.log
    records = {}
    for time in sorted(log):
        for key, value in log[time].items():
            if key.startswith(('train_', 'valid_cost')) or key in (
                    'training_finish_requested', 'batch_interrupt_received'):
                records.setdefault(key, {})[str(time)] = (
                    value.item() if hasattr(value, 'item') else value)
    return {'iterations_done': log.status['iterations_done'],
            'epochs_done': log.status['epochs_done'],
            'training_finished': bool(
                log.current_row.get('training_finished', False)),
            'records': records}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('directory')
    parser.add_argument('--endless', action='store_true')
    parser.add_argument('--continue', action='store_true', dest='resume')
    for option in ('--kill', '--fail', '--finish-on-rank1'):
        parser.add_argument(option, type=int)
    options = parser.parse_args()
    if options.resume:
        main_loop = load_main_loop(os.path.join(options.directory,
                                                CHECKPOINT))
    else:
        main_loop = build(options.directory, options)
    main_loop.run()
    rank = world().rank
    parameters = main_loop.model.get_parameter_values()
    numpy.savez(os.path.join(options.directory, f'rank{rank}.npz'),
                **parameters)
    with open(os.path.join(options.directory, f'rank{rank}.json'),
              'w') as file_:
        json.dump(summary(main_loop), file_)


if __name__ == '__main__':
    # Through the module, so that checkpoints refer to its classes by the
    # module's name rather than `__main__`.
    from tests.distributed.training import main as main_of_the_module
    main_of_the_module()
