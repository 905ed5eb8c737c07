"""Train a LeNet-style convolutional network: the ``lenet`` example.

Run ``python -m examples.lenet`` from the repository root. The network is
convolution, pooling, convolution, pooling and an MLP on top
(:class:`LeNet`), trained with Adam through the main loop while the
held-out error rate is monitored after every epoch.

By default it trains on the 8x8 digits bundled with scikit-learn
(:class:`~blocks.data.datasets.digits.Digits`: 3x3 filters with ``'half'``
padding, 8 and 16 feature maps, 2x2 max pooling, a hidden layer of 64) and
reaches at least 95% held-out accuracy (the ``valid`` split) after 6
epochs, which ``tests/test_examples_vision.py`` checks. ``--dataset mnist``
trains the classic LeNet (5x5 filters, 20 and 50 feature maps, a hidden
layer of 500) on MNIST, read from ``mnist.hdf5`` in the data path (see
``python -m examples.mnist`` for how to build it).
"""
import argparse
import sys
from collections.abc import Sequence

import numpy
import pytensor
from pytensor import tensor

from blocks.algorithms import Adam, GradientDescent
from blocks.bricks import (MLP, FeedforwardSequence, Initializable,
                           Rectifier, Softmax)
from blocks.bricks.conv import (
    Convolutional,
    ConvolutionalSequence,
    Flattener,
    MaxPooling,
)
from blocks.bricks.cost import CategoricalCrossEntropy, MisclassificationRate
from blocks.data.datasets import MNIST
from blocks.data.datasets.digits import Digits
from blocks.data.schemes import SequentialScheme, ShuffledScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Cast, ScaleAndShift
from blocks.extensions import FinishAfter, Printing, Timing
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, Uniform
from blocks.main_loop import MainLoop
from blocks.model import Model

#: The network for each dataset: filter sizes, feature maps, pooling
#: sizes, border mode and the hidden layer of the MLP on top.
ARCHITECTURES = {
    'digits': {'filter_sizes': [(3, 3), (3, 3)], 'feature_maps': [8, 16],
               'pooling_sizes': [(2, 2), (2, 2)], 'border_mode': 'half',
               'hidden': 64},
    'mnist': {'filter_sizes': [(5, 5), (5, 5)], 'feature_maps': [20, 50],
              'pooling_sizes': [(2, 2), (2, 2)], 'border_mode': 'valid',
              'hidden': 500},
}


class LeNet(FeedforwardSequence, Initializable):
    """LeNet-like convolutional network.

    The class implements LeNet, which is a convolutional sequence with
    an MLP on top (several fully-connected layers). For details see
    [LeCun95]_.

    .. [LeCun95] LeCun, Yann, et al.
       *Comparison of learning algorithms for handwritten digit
       recognition.*, International conference on artificial neural
       networks. Vol. 60.

    Parameters
    ----------
    conv_activations : list of :class:`.Brick`
        Activations for convolutional network.
    num_channels : int
        Number of channels in the input image.
    image_shape : tuple
        Input image shape.
    filter_sizes : list of tuples
        Filter sizes of :class:`.blocks.conv.ConvolutionalLayer`.
    feature_maps : list
        Number of filters for each of convolutions.
    pooling_sizes : list of tuples
        Sizes of max pooling for each convolutional layer.
    top_mlp_activations : list of :class:`.blocks.bricks.Activation`
        List of activations for the top MLP.
    top_mlp_dims : list
        Numbers of hidden units and the output dimension of the top MLP.
    conv_step : tuples
        Step of convolution (similar for all layers).
    border_mode : str
        Border mode of convolution (similar for all layers).

    """

    def __init__(self, conv_activations, num_channels, image_shape,
                 filter_sizes, feature_maps, pooling_sizes,
                 top_mlp_activations, top_mlp_dims,
                 conv_step=None, border_mode='valid', **kwargs):
        if conv_step is None:
            self.conv_step = (1, 1)
        else:
            self.conv_step = conv_step
        self.num_channels = num_channels
        self.image_shape = image_shape
        self.top_mlp_activations = top_mlp_activations
        self.top_mlp_dims = top_mlp_dims
        self.border_mode = border_mode

        conv_parameters = zip(filter_sizes, feature_maps, strict=True)

        # Construct convolutional, activation, and pooling layers with
        # corresponding parameters.
        self.convolution_layer = (
            Convolutional(filter_size=filter_size, num_filters=num_filter,
                          step=self.conv_step, border_mode=self.border_mode,
                          name=f'conv_{i}')
            for i, (filter_size, num_filter) in enumerate(conv_parameters))
        self.pooling_layer = (MaxPooling(size, name=f'pool_{i}')
                              for i, size in enumerate(pooling_sizes))
        self.layers = [layer for triple in zip(
            self.convolution_layer, conv_activations, self.pooling_layer,
            strict=True) for layer in triple]

        self.conv_sequence = ConvolutionalSequence(self.layers, num_channels,
                                                   image_size=image_shape)

        # Construct a top MLP; its input dimension is known once the
        # convolutional sequence has its dimensions.
        self.top_mlp = MLP(top_mlp_activations, [None] + list(top_mlp_dims))

        # We need to flatten the output of the last convolutional layer.
        # This brick accepts a tensor of dimension (batch_size, ...) and
        # returns a matrix (batch_size, features).
        self.flattener = Flattener()
        application_methods = [self.conv_sequence.apply,
                               self.flattener.apply, self.top_mlp.apply]
        super().__init__(application_methods, **kwargs)

    @property
    def output_dim(self):
        return self.top_mlp_dims[-1]

    @output_dim.setter
    def output_dim(self, value):
        self.top_mlp_dims[-1] = value

    def _push_allocation_config(self):
        self.conv_sequence._push_allocation_config()
        conv_out_dim = self.conv_sequence.get_dim('output')

        self.top_mlp.activations = self.top_mlp_activations
        self.top_mlp.dims = [int(numpy.prod(conv_out_dim))] + \
            list(self.top_mlp_dims)


def image_stream(dataset, batch_size: int, *, shuffled: bool,
                 seed: int = 1):
    """Batches of floatX images in [0, 1], ``(batch, 1, rows, columns)``,
    and their labels."""
    if shuffled:
        scheme = ShuffledScheme(dataset.num_examples, batch_size,
                                rng=numpy.random.RandomState(seed))
    else:
        scheme = SequentialScheme(dataset.num_examples, batch_size)
    stream = DataStream(dataset, iteration_scheme=scheme)
    if isinstance(dataset, MNIST):
        stream = ScaleAndShift(stream, 1 / 255.0, 0,
                               which_sources=('features',))
    return Cast(stream, pytensor.config.floatX, which_sources=('features',))


def load(dataset: str):
    """The training and held-out sets of `dataset`."""
    if dataset == 'digits':
        return Digits(('train',)), Digits(('valid',))
    return MNIST(('train',)), MNIST(('test',))


def build_main_loop(train, held_out, *, filter_sizes: Sequence,
                    feature_maps: Sequence, pooling_sizes: Sequence,
                    border_mode: str = 'valid', hidden: int = 500,
                    num_epochs: int = 6, batch_size: int = 32,
                    learning_rate: float = 0.01, seed: int = 1) -> MainLoop:
    """The LeNet example's main loop, ready to ``run()``.

    Parameters
    ----------
    train, held_out
        The training set and the set monitored after every epoch; their
        ``features`` are ``(batch, channels, rows, columns)`` images.
    filter_sizes, feature_maps, pooling_sizes, border_mode
        The convolutional layers, see :class:`LeNet`.
    hidden
        Units of the hidden layer of the MLP on top.
    num_epochs
        Epochs to train for.
    batch_size
        Examples per training batch.
    learning_rate
        Adam's learning rate.
    seed
        Seed of the initial weights and of the order of the examples.

    """
    image_shape = train.features.shape[1:]
    x = tensor.tensor4('features')
    y = tensor.lmatrix('targets')
    convnet = LeNet([Rectifier() for _ in feature_maps], image_shape[0],
                    tuple(image_shape[1:]), filter_sizes, feature_maps,
                    pooling_sizes, [Rectifier(), Softmax()], [hidden, 10],
                    border_mode=border_mode,
                    weights_init=Uniform(width=0.2), biases_init=Constant(0),
                    seed=seed)
    convnet.push_allocation_config()
    # Glorot-style scales: the layers differ too much in fan-in for one
    # initialization scheme.
    for layer in list(convnet.layers[0::3]) + \
            convnet.top_mlp.linear_transformations:
        fan_in = (numpy.prod(layer.filter_size) * layer.num_channels
                  if isinstance(layer, Convolutional) else layer.input_dim)
        layer.weights_init = Uniform(width=2 * numpy.sqrt(3 / fan_in))
    convnet.initialize()

    probs = convnet.apply(x)
    cost = CategoricalCrossEntropy().apply(y.flatten(), probs)
    cost.name = 'cost'
    error_rate = MisclassificationRate().apply(y.flatten(), probs)
    error_rate.name = 'error_rate'

    graph = ComputationGraph([cost])
    algorithm = GradientDescent(cost=cost, parameters=graph.parameters,
                                step_rule=Adam(learning_rate=learning_rate))
    extensions = [
        Timing(),
        FinishAfter(after_n_epochs=num_epochs),
        DataStreamMonitoring([cost, error_rate],
                             image_stream(held_out, 500, shuffled=False),
                             prefix='held_out'),
        TrainingDataMonitoring([cost, error_rate], prefix='train',
                               after_epoch=True),
        Printing(),
    ]
    return MainLoop(algorithm,
                    image_stream(train, batch_size, shuffled=True, seed=seed),
                    model=Model(cost), extensions=extensions)


def held_out_accuracy(main_loop: MainLoop) -> float:
    """Accuracy on the held-out set after the last epoch."""
    return 1 - float(main_loop.log.last_epoch_row['held_out_error_rate'])


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, train and print the held-out accuracy."""
    parser = argparse.ArgumentParser(
        description="Train a LeNet-style convolutional network on "
                    "handwritten digits.")
    parser.add_argument('--dataset', choices=sorted(ARCHITECTURES),
                        default='digits',
                        help="the bundled 8x8 digits or MNIST (which "
                             "needs mnist.hdf5, see examples.mnist) "
                             "(default: %(default)s)")
    parser.add_argument('--num-epochs', type=int, default=6)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--learning-rate', type=float, default=0.01)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)
    if args.num_epochs < 1 or args.batch_size < 1:
        parser.error(f"--num-epochs and --batch-size must be at least 1, "
                     f"got {args.num_epochs} and {args.batch_size}")
    if args.dataset == 'mnist':
        from examples.mnist import MISSING_DATA_STATUS, missing_data_message
        message = missing_data_message()
        if message is not None:
            print(message, file=sys.stderr)
            return MISSING_DATA_STATUS
    train, held_out = load(args.dataset)
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(
            train, held_out, num_epochs=args.num_epochs,
            batch_size=args.batch_size, learning_rate=args.learning_rate,
            seed=args.seed, **ARCHITECTURES[args.dataset])
        main_loop.run()
    print(f"Held-out accuracy after {main_loop.status['epochs_done']} "
          f"epochs: {held_out_accuracy(main_loop):.2%}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
