"""Small synthetic datasets (``fuel.datasets.toy``)."""
from typing import Any

import numpy

from blocks.data import config
from blocks.data.datasets.base import IndexableDataset


class Spiral(IndexableDataset):
    """Points on spiral arms, one arm per class.

    Sources ``features`` (``(N, 2)`` float32), ``position`` (position along
    the arm, float64) and ``label`` (the arm).

    Parameters
    ----------
    num_examples
        Number of points.
    classes
        Number of arms.
    cycles
        Turns of each arm.
    noise
        Standard deviation of the Gaussian noise added to the points.
    seed
        Seed of the random state (default ``config.default_seed``).
    **kwargs
        Passed to :class:`~blocks.data.datasets.IndexableDataset`.

    Examples
    --------
    >>> Spiral(num_examples=10, classes=2).features.shape
    (10, 2)

    """

    def __init__(self, num_examples: int = 1000, classes: int = 1,
                 cycles: float = 1., noise: float = 0.0,
                 **kwargs: Any) -> None:
        rng = numpy.random.RandomState(kwargs.pop('seed',
                                                  config.default_seed))
        pos = rng.uniform(0., cycles, num_examples)
        label = rng.randint(0, classes, num_examples)
        radius = (2 * pos + 1) / 3.
        phase = 2 * numpy.pi * pos + label * (2 * numpy.pi) / classes
        features = numpy.zeros((num_examples, 2), dtype='float32')
        features[:, 0] = radius * numpy.sin(phase)
        features[:, 1] = radius * numpy.cos(phase)
        features += noise * rng.normal(size=(num_examples, 2))
        super().__init__({'features': features, 'position': pos,
                          'label': label}, **kwargs)


class SwissRoll(IndexableDataset):
    """Points on a swiss roll in three dimensions.

    Sources ``features`` (``(N, 3)`` float32) and ``position`` (``(N, 2)``
    float32: position along the roll and height).

    Parameters
    ----------
    num_examples
        Number of points.
    noise
        Standard deviation of the Gaussian noise added to the points.
    seed
        Seed of the random state (default ``config.default_seed``).
    **kwargs
        Passed to :class:`~blocks.data.datasets.IndexableDataset`.

    """

    def __init__(self, num_examples: int = 1000, noise: float = 0.0,
                 **kwargs: Any) -> None:
        cycles = 1.5
        rng = numpy.random.RandomState(kwargs.pop('seed',
                                                  config.default_seed))
        pos = rng.uniform(0., 1., num_examples)
        phi = cycles * numpy.pi * (1 + 2 * pos)
        radius = (1 + 2 * pos) / 3
        z = rng.uniform(-1., 1., num_examples)
        features = numpy.zeros((num_examples, 3), dtype='float32')
        features[:, 0] = radius * numpy.cos(phi)
        features[:, 1] = radius * numpy.sin(phi)
        features[:, 2] = z
        features += noise * rng.normal(size=(num_examples, 3))
        position = numpy.zeros((num_examples, 2), dtype='float32')
        position[:, 0] = pos
        position[:, 1] = z
        super().__init__({'features': features, 'position': position},
                         **kwargs)
