"""Bricks: the parametrized building blocks of computation graphs.

The code lives in small modules (:mod:`~blocks.bricks.base` for the brick
protocol, :mod:`~blocks.bricks.interfaces`, :mod:`~blocks.bricks.simple`,
:mod:`~blocks.bricks.sequences`, ...); this module re-exports the public
names.
"""
from blocks.bricks.base import application, Brick, lazy
from blocks.bricks.interfaces import (Activation, Feedforward, Initializable,
                                      LinearLike, Random)
from blocks.bricks.simple import (Linear, Bias, Maxout, LinearMaxout,
                                  Identity, Tanh, Logistic, Softplus,
                                  Rectifier, LeakyRectifier, Softmax,
                                  NDimensionalSoftmax)
from blocks.bricks.sequences import Sequence, FeedforwardSequence, MLP
from blocks.bricks.wrappers import WithExtraDims
from blocks.bricks.bn import (BatchNormalization, BatchNormalizedMLP,
                              SpatialBatchNormalization)
from blocks.bricks.recurrent import (BaseRecurrent, SimpleRecurrent, LSTM,
                                     GatedRecurrent, Bidirectional,
                                     RecurrentStack, RECURRENTSTACK_SEPARATOR,
                                     recurrent)

__all__ = ['application', 'Brick', 'lazy',
           'Activation', 'Feedforward', 'Initializable', 'LinearLike',
           'Random',
           'Linear', 'Bias', 'Maxout', 'LinearMaxout', 'Identity', 'Tanh',
           'Logistic', 'Softplus', 'Rectifier', 'LeakyRectifier', 'Softmax',
           'NDimensionalSoftmax',
           'Sequence', 'FeedforwardSequence', 'MLP',
           'WithExtraDims',
           'BatchNormalization', 'SpatialBatchNormalization',
           'BatchNormalizedMLP',
           'BaseRecurrent', 'SimpleRecurrent', 'LSTM', 'GatedRecurrent',
           'Bidirectional', 'RecurrentStack', 'RECURRENTSTACK_SEPARATOR',
           'recurrent']
