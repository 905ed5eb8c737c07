"""A gated recurrent network copies a symbol sequence with a delay.

Run ``python -m examples.delayed_copy`` from the repository root. Each
example is a sequence of random symbols from a small alphabet; the target
at step ``t`` is the input symbol of step ``t - delay`` (the blank symbol 0
for the first ``delay`` steps), so the network must remember the last
``delay`` symbols. A :class:`~blocks.bricks.lookup.LookupTable` embeds the
symbols, a :class:`~blocks.bricks.parallel.Fork` gives a
:class:`~blocks.bricks.recurrent.GatedRecurrent` its inputs and gate
inputs, and a :class:`~blocks.bricks.Linear` readout with a softmax
predicts the delayed symbol; the cost is the cross-entropy at every step.
Batches are time-major, ``(time, batch)``. ``--simple`` uses a
:class:`~blocks.bricks.recurrent.SimpleRecurrent` (tanh) instead.

The main loop stops after ``--num-batches`` batches and checkpoints after
every epoch and at the end; the script then prints the accuracy on fresh
sequences, over the steps that have a symbol to copy. With the defaults
(alphabet of 4 symbols plus the blank, delay 2, sequences of 12 symbols,
32 units, 600 batches of 32) the gated network reaches 100% (measured:
1.000).
"""
import argparse
import os
import sys

import numpy
from pytensor import tensor

from blocks.algorithms import Adam, GradientDescent
from blocks.bricks import Linear, Softmax, Tanh
from blocks.bricks.lookup import LookupTable
from blocks.bricks.parallel import Fork
from blocks.bricks.recurrent import GatedRecurrent, SimpleRecurrent
from blocks.compilation import function
from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import ShuffledScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Mapping
from blocks.extensions import FinishAfter, Printing
from blocks.extensions.monitoring import TrainingDataMonitoring
from blocks.extensions.saveload import Checkpoint
from blocks.initialization import Constant, IsotropicGaussian
from blocks.main_loop import MainLoop
from blocks.model import Model

#: The name of the readout's scores, ``(time, batch, symbol)``, in the graph.
SCORES = 'symbol_scores'


def copy_data(number: int, length: int, alphabet: int, delay: int,
              rng) -> dict:
    """Symbol sequences (1 to `alphabet`) and their delayed copies."""
    symbols = rng.randint(1, alphabet + 1, size=(number, length))
    targets = numpy.zeros_like(symbols)
    targets[:, delay:] = symbols[:, :length - delay]
    return {'symbols': symbols.astype('int64'),
            'targets': targets.astype('int64')}


def _time_major(data: tuple) -> tuple:
    """``(batch, time)`` sources to ``(time, batch)``."""
    return tuple(numpy.ascontiguousarray(source.T) for source in data)


def get_data_stream(data: dict, batch_size: int, seed: int) -> Mapping:
    """Shuffled time-major batches of `data`."""
    stream = DataStream(IndexableDataset(data), iteration_scheme=(
        ShuffledScheme(len(data['symbols']), batch_size,
                       rng=numpy.random.RandomState(seed))))
    return Mapping(stream, _time_major)


def build_model(alphabet: int, dim: int, seed: int, simple: bool = False):
    """The symbols, the targets and the cost."""
    symbols = tensor.lmatrix('symbols')
    targets = tensor.lmatrix('targets')
    init = dict(weights_init=IsotropicGaussian(0.2),
                biases_init=Constant(0), seed=seed)
    embedding = LookupTable(alphabet + 1, dim, name='embedding', **init)
    if simple:
        transition = SimpleRecurrent(dim=dim, activation=Tanh(),
                                     name='transition', **init)
    else:
        transition = GatedRecurrent(dim=dim, name='transition', **init)
    names = [name for name in transition.apply.sequences if name != 'mask']
    fork = Fork(names, input_dim=dim, output_dims=transition.get_dims(names),
                name='fork', **init)
    readout = Linear(input_dim=dim, output_dim=alphabet + 1, name='readout',
                     **init)
    for brick in (embedding, fork, transition, readout):
        brick.initialize()
    states = transition.apply(**dict(zip(
        names, fork.apply(embedding.apply(symbols), as_list=True),
        strict=True)))
    scores = readout.apply(states)
    scores.name = SCORES
    flat_scores = scores.reshape((-1, alphabet + 1))
    cost = Softmax().categorical_cross_entropy(
        targets.flatten(), flat_scores).mean()
    cost.name = 'cost'
    return symbols, targets, cost


def build_main_loop(save_path: str, *, num_batches: int = 600,
                    length: int = 12, alphabet: int = 4, delay: int = 2,
                    dim: int = 32, batch_size: int = 32,
                    num_train: int = 512, learning_rate: float = 0.02,
                    simple: bool = False, seed: int = 1,
                    extensions=(), checkpoint_every=None) -> MainLoop:
    """The delayed-copy example's main loop, ready to ``run()``.

    Parameters
    ----------
    save_path
        Where the checkpoint is written.
    num_batches
        Training batches to do before stopping.
    length, alphabet, delay
        Symbols per sequence, size of the alphabet (without the blank),
        steps between a symbol and its copy.
    dim
        Units of the recurrent network.
    batch_size, num_train
        Sequences per batch and in the training set.
    learning_rate
        Adam's learning rate.
    simple
        Use a :class:`~blocks.bricks.recurrent.SimpleRecurrent`.
    seed
        Seed of the data, the initial weights and the shuffling.
    extensions
        More extensions, run before the checkpoint.
    checkpoint_every
        Also checkpoint every this many batches.

    """
    data = copy_data(num_train, length, alphabet, delay,
                     numpy.random.RandomState(seed))
    symbols, targets, cost = build_model(alphabet, dim, seed, simple)
    model = Model(cost)
    algorithm = GradientDescent(cost=cost, parameters=model.parameters,
                                step_rule=Adam(learning_rate=learning_rate))
    checkpoint = {'after_epoch': True}
    if checkpoint_every:
        checkpoint['every_n_batches'] = checkpoint_every
    return MainLoop(
        algorithm, get_data_stream(data, batch_size, seed), model=model,
        extensions=[
            FinishAfter(after_n_batches=num_batches),
            TrainingDataMonitoring([cost], prefix='train', after_epoch=True),
            *extensions,
            Checkpoint(save_path, **checkpoint),
            Printing(after_epoch=False, every_n_epochs=10)])


def accuracy(main_loop: MainLoop, length: int = 12, alphabet: int = 4,
             delay: int = 2, number: int = 500, seed: int = 1234) -> float:
    """Accuracy on fresh sequences, over the steps with a symbol to copy."""
    data = copy_data(number, length, alphabet, delay,
                     numpy.random.RandomState(seed))
    model = main_loop.model
    (scores,) = [var for var in model.variables if var.name == SCORES]
    symbols = model.dict_of_inputs()['symbols']
    predicted = function([symbols], scores.argmax(axis=-1))(
        data['symbols'].T)
    return float((predicted == data['targets'].T)[delay:].mean())


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, train, and print the held-out accuracy."""
    parser = argparse.ArgumentParser(
        description="Train a recurrent network to copy symbols with a "
                    "delay.")
    parser.add_argument('--num-batches', type=int, default=600)
    parser.add_argument('--save-path', default='delayed_copy.tar')
    parser.add_argument('--length', type=int, default=12)
    parser.add_argument('--alphabet', type=int, default=4)
    parser.add_argument('--delay', type=int, default=2)
    parser.add_argument('--dim', type=int, default=32)
    parser.add_argument('--learning-rate', type=float, default=0.02)
    parser.add_argument('--simple', action='store_true',
                        help="SimpleRecurrent instead of GatedRecurrent")
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    for option in ('num_batches', 'length', 'alphabet', 'dim'):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1, "
                         f"got {getattr(args, option)}")
    if not 0 <= args.delay < args.length:
        parser.error(f"--delay must be in [0, --length), got {args.delay}")
    directory = os.path.dirname(args.save_path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    main_loop = build_main_loop(
        args.save_path, num_batches=args.num_batches, length=args.length,
        alphabet=args.alphabet, delay=args.delay, dim=args.dim,
        learning_rate=args.learning_rate, simple=args.simple,
        seed=args.seed)
    main_loop.run()
    result = accuracy(main_loop, length=args.length, alphabet=args.alphabet,
                      delay=args.delay)
    print(f"Held-out accuracy after {main_loop.status['iterations_done']} "
          f"batches: {result:.3f}")
    print(f"Checkpoint: {args.save_path}")
    return 0


if __name__ == '__main__':
    # Run under the importable name, so that the checkpoint refers to
    # examples.delayed_copy's functions and blocks-continue can load it.
    from examples import delayed_copy
    sys.exit(delayed_copy.main())
