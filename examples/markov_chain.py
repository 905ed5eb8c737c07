"""Learn a Markov chain with a sequence generator (``markov_chain`` example).

Sequences are drawn from a three-state Markov chain (:data:`TRANSITIONS`);
a :class:`~blocks.bricks.sequence_generators.SequenceGenerator` with a
:class:`~blocks.bricks.recurrent.GatedRecurrent` transition, a softmax
emitter and a lookup feedback learns to generate them. After training the
script samples from the generator and compares the frequencies of its
transitions with the chain's probabilities::

    python -m examples.markov_chain

With the defaults (600 batches of 20 sequences of length 10, Adam) the
training cost comes within 2% of the chain's entropy rate (the lowest cost
any model can reach) and every sampled transition frequency is within 0.03
of its probability. ``test_examples`` checks it with a statistical test.
"""
import argparse
import os
import sys

import numpy
import pytensor
from pytensor import tensor

from blocks.algorithms import Adam, GradientDescent
from blocks.bricks import Tanh
from blocks.bricks.recurrent import GatedRecurrent
from blocks.bricks.sequence_generators import (LookupFeedback, Readout,
                                               SequenceGenerator,
                                               SoftmaxEmitter)
from blocks.data.datasets import IterableDataset
from blocks.data.schemes import ConstantScheme
from blocks.data.transformers import Batch, Mapping
from blocks.extensions import FinishAfter, Printing, Timing
from blocks.extensions.monitoring import TrainingDataMonitoring
from blocks.extensions.saveload import Checkpoint
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian, Orthogonal
from blocks.main_loop import MainLoop
from blocks.model import Model

#: The chain: TRANSITIONS[a, b] is the probability of going from a to b.
TRANSITIONS = numpy.array([[0.1, 0.5, 0.4],
                           [0.1, 0.9, 0.0],
                           [0.5, 0.3, 0.2]])
#: The distribution of the first state of a sequence.
INITIAL = numpy.array([0.2, 0.5, 0.3])
NUM_STATES = len(TRANSITIONS)


def _entropy(distribution: numpy.ndarray) -> float:
    positive = distribution[distribution > 0]
    return float(-(positive * numpy.log(positive)).sum())


def minimal_cost(length: int) -> float:
    """The lowest mean cost per step any model can reach, in nats.

    The expected entropy of each step given the previous state: the first
    state's distribution, then the rows of TRANSITIONS weighted by the
    distribution of the state before.

    """
    total = _entropy(INITIAL)
    state = INITIAL
    for _ in range(length - 1):
        total += sum(probability * _entropy(row)
                     for probability, row in zip(state, TRANSITIONS,
                                                 strict=True))
        state = state @ TRANSITIONS
    return total / length


def sample_chain(number: int, length: int,
                 rng: numpy.random.RandomState) -> numpy.ndarray:
    """`number` sequences of the chain, shaped (number, length)."""
    sequences = numpy.zeros((number, length), dtype='int64')
    sequences[:, 0] = rng.choice(NUM_STATES, size=number, p=INITIAL)
    cumulative = TRANSITIONS.cumsum(axis=1)
    for t in range(1, length):
        uniform = rng.uniform(size=number)
        rows = cumulative[sequences[:, t - 1]]
        sequences[:, t] = (rows < uniform[:, None]).sum(axis=1)
    return sequences


def _time_major(data: tuple) -> tuple:
    return tuple(numpy.asarray(source).T for source in data)


def get_data_stream(sequences: numpy.ndarray, batch_size: int) -> Mapping:
    """Time-major batches of the ``data`` source."""
    dataset = IterableDataset({'data': list(sequences)})
    stream = Batch(dataset.get_example_stream(),
                   iteration_scheme=ConstantScheme(batch_size))
    return Mapping(stream, _time_major)


def build_generator(dimension: int = 10, feedback_dim: int = 8,
                    seed: int = 1) -> SequenceGenerator:
    """The sequence generator of the example, initialized."""
    transition = GatedRecurrent(activation=Tanh(), dim=dimension,
                                name="transition")
    generator = SequenceGenerator(
        Readout(readout_dim=NUM_STATES, source_names=["states"],
                emitter=SoftmaxEmitter(name="emitter", theano_seed=seed),
                feedback_brick=LookupFeedback(NUM_STATES, feedback_dim,
                                              name='feedback'),
                name="readout"),
        transition,
        weights_init=IsotropicGaussian(0.1), biases_init=Constant(0),
        seed=seed, name="generator")
    generator.push_initialization_config()
    transition.weights_init = Orthogonal()
    generator.initialize()
    return generator


def build_main_loop(save_path: str, *, num_batches: int = 600,
                    batch_size: int = 20, length: int = 10,
                    learning_rate: float = 0.01, print_every: int = 100,
                    seed: int = 1) -> MainLoop:
    """The training main loop of the example, ready to ``run()``."""
    generator = build_generator(seed=seed)
    data = tensor.lmatrix('data')
    # Nats per step, comparable with the chain's entropy rate.
    cost = generator.cost_matrix(data).mean()
    cost.name = "cost_per_step"
    sequences = sample_chain(num_batches * batch_size, length,
                             numpy.random.RandomState(seed))
    algorithm = GradientDescent(
        cost=cost, parameters=ComputationGraph(cost).parameters,
        step_rule=Adam(learning_rate))
    extensions = [
        Timing(),
        FinishAfter(after_n_batches=num_batches),
        TrainingDataMonitoring([cost], prefix="train",
                               every_n_batches=print_every),
        Checkpoint(save_path, every_n_batches=print_every,
                   after_training=True),
        Printing(after_epoch=False, every_n_batches=print_every),
    ]
    return MainLoop(algorithm, get_data_stream(sequences, batch_size),
                    model=Model(cost), extensions=extensions)


def sample(generator: SequenceGenerator, number: int,
           length: int) -> numpy.ndarray:
    """`number` sequences generated by the model, shaped (length, number)."""
    generated = generator.generate(n_steps=length, batch_size=number,
                                   iterate=True)
    _, outputs, _ = ComputationGraph(generated).get_theano_function()()
    return outputs


def transition_frequencies(sequences: numpy.ndarray) -> numpy.ndarray:
    """Counts of each transition of time-major sequences, per row."""
    counts = numpy.zeros((NUM_STATES, NUM_STATES))
    numpy.add.at(counts, (sequences[:-1].ravel(), sequences[1:].ravel()), 1)
    return counts


def main(argv: list[str] | None = None) -> int:
    """Train, then compare sampled transitions with the chain's."""
    parser = argparse.ArgumentParser(
        description="Learn a Markov chain with a sequence generator.")
    parser.add_argument('--save-path',
                        default='blocks-demo/markov_chain/markov_chain.tar')
    parser.add_argument('--num-batches', type=int, default=600)
    parser.add_argument('--print-every', type=int, default=100)
    args = parser.parse_args(argv)
    if args.num_batches < 1 or args.print_every < 1:
        parser.error("--num-batches and --print-every must be at least 1")
    directory = os.path.dirname(args.save_path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(args.save_path,
                                    num_batches=args.num_batches,
                                    print_every=args.print_every)
        main_loop.run()
        generator, = main_loop.model.get_top_bricks()
        outputs = sample(generator, 500, 21)
    counts = transition_frequencies(outputs)
    numpy.set_printoptions(precision=3, suppress=True)
    print(f"Final training cost: "
          f"{float(main_loop.log.current_row['train_cost_per_step']):.4f}, "
          f"the lowest possible: {minimal_cost(10):.4f} nats per step")
    print(f"Transition frequencies of the samples:\n"
          f"{counts / counts.sum(axis=1, keepdims=True)}\n"
          f"the chain's probabilities:\n{TRANSITIONS}")
    print(f"Checkpoint: {args.save_path}")
    return 0


if __name__ == '__main__':
    from examples import markov_chain
    sys.exit(markov_chain.main())
