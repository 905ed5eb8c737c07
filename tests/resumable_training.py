"""A tiny training run that can be killed and resumed; used by the kill tests.

Run as ``python -m tests.resumable_training DIRECTORY [options]``: trains an
MLP with dropout and Adam on 24 shuffled examples (5 batches an epoch) for 3
epochs, monitoring the mean cost of every epoch, with a checkpoint
``DIRECTORY/checkpoint.tar`` every 3 batches and at every epoch end.

``--kill POINT ...`` kills the process with SIGKILL at each point, once
(the points already used are remembered in ``DIRECTORY/kills_done``, so a
resumed run goes past them): ``8`` after batch 8 (before that batch's
checkpoint), ``w12`` in the middle of writing the checkpoint of batch 12.
``--load`` adds ``Load(checkpoint, load_iteration_state=True,
load_log=True)``, so that running the script again resumes it; otherwise a
killed run is resumed with ``blocks-continue DIRECTORY/checkpoint.tar``.

The extensions are defined in this importable module rather than in
``__main__``, so that ``blocks-continue`` can unpickle them.
"""
import argparse
import os
import signal

import numpy
from pytensor import tensor

import blocks.serialization.core
from blocks.algorithms import Adam, GradientDescent
from blocks.bricks import MLP, Identity, Tanh
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import ShuffledScheme
from blocks.data.streams import DataStream
from blocks.extensions import FinishAfter, TrainingExtension
from blocks.extensions.monitoring import TrainingDataMonitoring
from blocks.extensions.saveload import Checkpoint, Load
from blocks.filter import VariableFilter
from blocks.graph import ComputationGraph, apply_dropout
from blocks.initialization import Constant, IsotropicGaussian
from blocks.main_loop import MainLoop
from blocks.model import Model
from blocks.roles import OUTPUT

CHECKPOINT = 'checkpoint.tar'
KILLS_DONE = 'kills_done'


class KillSwitch(TrainingExtension):
    """SIGKILLs the process at given points, each once.

    Parameters
    ----------
    points : list of str
        ``'<n>'``: after batch n; ``'w<n>'``: while writing the checkpoint
        of batch n.
    record : str
        The file where the points already used are appended.
    """

    def __init__(self, points, record, **kwargs):
        super().__init__(**kwargs)
        self.points = list(points)
        self.record = record

    def _due(self, point):
        if point not in self.points:
            return False
        done = []
        if os.path.exists(self.record):
            with open(self.record) as file_:
                done = file_.read().split()
        return point not in done

    def _kill(self, point):
        with open(self.record, 'a') as file_:
            file_.write(point + '\n')
            file_.flush()
            os.fsync(file_.fileno())
        os.kill(os.getpid(), signal.SIGKILL)

    def _install_write_hook(self):
        # The hook lives in this process only: installed again whenever
        # training starts or resumes.
        original = getattr(blocks.serialization.core._taradd, 'original',
                           blocks.serialization.core._taradd)

        def taradd(func, tar_file, name):
            point = f"w{self.main_loop.status['iterations_done']}"
            if name != '_pkl' or not self._due(point):
                return original(func, tar_file, name)

            def write_half_then_die(fileobj):
                fileobj.write(b'\x80' * 1000)
                fileobj.flush()
                self._kill(point)
            return original(write_half_then_die, tar_file, name)

        taradd.original = original
        blocks.serialization.core._taradd = taradd

    def before_training(self):
        self._install_write_hook()

    def on_resumption(self):
        self._install_write_hook()

    def after_batch(self, batch):
        point = str(self.main_loop.status['iterations_done'])
        if self._due(point):
            self._kill(point)


def build_main_loop(directory, kill_points=(), load=False):
    rng = numpy.random.RandomState(0)
    dataset = IndexableDataset({
        'features': rng.normal(size=(24, 4)).astype('float64'),
        'targets': rng.normal(size=(24, 2)).astype('float64')})
    stream = DataStream(dataset, iteration_scheme=ShuffledScheme(
        24, 5, rng=numpy.random.RandomState(1)))

    features = tensor.matrix('features', dtype='float64')
    targets = tensor.matrix('targets', dtype='float64')
    mlp = MLP([Tanh(), Identity()], [4, 6, 2], name='mlp',
              weights_init=IsotropicGaussian(0.5),
              biases_init=Constant(0.1), seed=3)
    mlp.initialize()
    cost = ((mlp.apply(features) - targets) ** 2).mean()
    graph = ComputationGraph(cost)
    hidden = VariableFilter(bricks=[mlp.activations[0]],
                            roles=[OUTPUT])(graph.variables)
    cost, = apply_dropout(graph, hidden, 0.5, seed=4).outputs
    cost.name = 'cost'
    model = Model(cost)
    algorithm = GradientDescent(cost=cost, parameters=model.parameters,
                                step_rule=Adam(learning_rate=0.05))

    path = os.path.join(directory, CHECKPOINT)
    extensions = []
    if load:
        extensions.append(Load(path, load_iteration_state=True,
                               load_log=True))
    extensions += [
        TrainingDataMonitoring([cost], prefix='train', after_epoch=True),
        FinishAfter(after_n_epochs=3),
        KillSwitch(kill_points, os.path.join(directory, KILLS_DONE)),
        Checkpoint(path, every_n_batches=3, after_epoch=True,
                   use_cpickle=True)]
    return MainLoop(algorithm, stream, model=model, extensions=extensions)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('directory')
    parser.add_argument('--kill', nargs='*', default=[],
                        help="points to SIGKILL at: 8, w12, ...")
    parser.add_argument('--load', action='store_true',
                        help="resume from the checkpoint with Load")
    args = parser.parse_args(argv)
    build_main_loop(args.directory, args.kill, args.load).run()


if __name__ == '__main__':
    # Run the copy of this module imported under its own name, so that its
    # classes are pickled as tests.resumable_training.KillSwitch.
    from tests.resumable_training import main as importable_main
    importable_main()
