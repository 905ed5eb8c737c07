"""The 8x8 handwritten digits shipped with scikit-learn, offline."""
import functools
from typing import Any

import numpy

from blocks.data.datasets.base import IndexableDataset

# Rows of the fixed shuffled order that make up each split.
SPLITS = {'train': (0, 1200), 'valid': (1200, 1500), 'test': (1500, 1797)}
SPLIT_SEED = 1234
NEEDS_SKLEARN = ("Digits needs scikit-learn, which ships the data; install "
                 "it with `pip install blocks[digits]` (or "
                 "`pip install scikit-learn`)")


@functools.cache
def _load_shuffled() -> tuple[numpy.ndarray, numpy.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(NEEDS_SKLEARN) from exc
    digits = load_digits()
    order = numpy.random.RandomState(SPLIT_SEED).permutation(
        len(digits.target))
    features = (digits.images[order] / 16.).astype('float32')[:, None]
    targets = digits.target[order].astype('uint8')[:, None]
    features.setflags(write=False)
    targets.setflags(write=False)
    return features, targets


class Digits(IndexableDataset):
    """The 1797 8x8 handwritten digits of scikit-learn, split in three.

    The examples are shuffled once, with a fixed seed, then cut into
    ``train`` (1200 examples), ``valid`` (300) and ``test`` (297); the
    split is the same on every machine. Sources ``features``
    (``(N, 1, 8, 8)`` float32 in [0, 1], axes ``('batch', 'channel',
    'height', 'width')``) and ``targets`` (``(N, 1)`` uint8, axes
    ``('batch', 'index')``), laid out like MNIST's.

    Needs scikit-learn (``pip install blocks[digits]``); no download.

    Parameters
    ----------
    which_sets
        Splits to use, concatenated in order, e.g. ``('train',)``.
    **kwargs
        Passed to :class:`~blocks.data.datasets.IndexableDataset`
        (``sources``, ``start``, ``stop``, ...).

    Examples
    --------
    >>> train = Digits(('train',))
    >>> train.num_examples, train.features.dtype, train.targets.shape
    (1200, dtype('float32'), (1200, 1))

    """

    def __init__(self, which_sets: Any, **kwargs: Any) -> None:
        if isinstance(which_sets, str) or not all(
                isinstance(s, str) for s in which_sets):
            raise ValueError(
                f"`which_sets` should be an iterable of strings, got "
                f"{which_sets!r}; write ('train',) rather than 'train'")
        unknown = [s for s in which_sets if s not in SPLITS]
        if unknown or not which_sets:
            raise ValueError(
                f"Digits has no split(s) {unknown!r}; choose among "
                f"{tuple(SPLITS)}")
        self.which_sets = tuple(which_sets)
        features, targets = _load_shuffled()
        rows = numpy.concatenate([numpy.arange(*SPLITS[s])
                                  for s in which_sets])
        kwargs.setdefault('axis_labels', {
            'features': ('batch', 'channel', 'height', 'width'),
            'targets': ('batch', 'index')})
        super().__init__({'features': features[rows],
                          'targets': targets[rows]}, **kwargs)
