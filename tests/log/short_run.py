"""A short real training run with an SQLite log, a crash and a resumption.

24 examples in batches of 5 (5 batches an epoch), 3 epochs. The per-batch
cost is logged as ``cost`` and the mean of every epoch as ``train_cost``;
a checkpoint is written every 3 batches and at every epoch end. The first
process crashes after batch 8 (the last checkpoint is the one of batch
6); :func:`resume` then continues from the checkpoint, as
``blocks-continue`` does.
"""
import os

import numpy
from pytensor import tensor

from blocks.algorithms import GradientDescent, Scale
from blocks.bricks import MLP, Identity, Tanh
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import ShuffledScheme
from blocks.data.streams import DataStream
from blocks.extensions import FinishAfter, TrainingExtension
from blocks.extensions.monitoring import TrainingDataMonitoring
from blocks.extensions.saveload import Checkpoint
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.log import SQLiteLog
from blocks.main_loop import MainLoop
from blocks.model import Model
from blocks.serialization import load

CRASH_AFTER = 8
EPOCHS = 3
BATCHES_PER_EPOCH = 5


class Crash(Exception):
    pass


class CrashOnce(TrainingExtension):
    """Raises after batch ``at``, the first time only (marker file)."""

    def __init__(self, at, marker, **kwargs):
        super().__init__(**kwargs)
        self.at = at
        self.marker = marker

    def after_batch(self, batch):
        if (self.main_loop.status['iterations_done'] == self.at
                and not os.path.exists(self.marker)):
            open(self.marker, 'w').close()
            raise Crash(f"crash after batch {self.at}")


class Snapshot(TrainingExtension):
    """Calls ``hook(main_loop)`` after every epoch (not pickled)."""

    hooks = []

    def after_epoch(self):
        for hook in Snapshot.hooks:
            hook(self.main_loop)


def build(directory, extra_extensions=()):
    rng = numpy.random.RandomState(0)
    dataset = IndexableDataset({
        'features': rng.normal(size=(24, 4)),
        'targets': rng.normal(size=(24, 2))})
    stream = DataStream(dataset, iteration_scheme=ShuffledScheme(
        24, 5, rng=numpy.random.RandomState(1)))
    features = tensor.matrix('features', dtype='float64')
    targets = tensor.matrix('targets', dtype='float64')
    mlp = MLP([Tanh(), Identity()], [4, 6, 2], weights_init=IsotropicGaussian(
        0.5), biases_init=Constant(0.1), seed=3)
    mlp.initialize()
    cost = ((mlp.apply(features) - targets) ** 2).mean()
    cost.name = 'cost'
    model = Model(cost)
    algorithm = GradientDescent(
        cost=cost, parameters=ComputationGraph(cost).parameters,
        step_rule=Scale(0.05))
    extensions = [
        TrainingDataMonitoring([cost], after_batch=True),
        TrainingDataMonitoring([cost], prefix='train', after_epoch=True),
        *extra_extensions,
        FinishAfter(after_n_epochs=EPOCHS),
        CrashOnce(CRASH_AFTER, os.path.join(directory, 'crashed')),
        Checkpoint(os.path.join(directory, 'checkpoint.tar'),
                   every_n_batches=3, after_epoch=True),
        Snapshot(),
    ]
    return MainLoop(algorithm, stream, model=model, extensions=extensions,
                    log=SQLiteLog(os.path.join(directory, 'log.sqlite')))


def resume(directory):
    """Continue from the checkpoint, as ``blocks-continue`` does."""
    with open(os.path.join(directory, 'checkpoint.tar'), 'rb') as file_:
        main_loop = load(file_)
    main_loop.run()
    return main_loop
