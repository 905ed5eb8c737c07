"""Datasets (Fuel's ``fuel.datasets``). The toy datasets live in
:mod:`blocks.data.datasets.toy` and the scikit-learn digits in
:mod:`blocks.data.datasets.digits`."""
from blocks.data.datasets.base import (Dataset, IndexableDataset,
                                       IterableDataset)
from blocks.data.datasets.billion import OneBillionWord
from blocks.data.datasets.cifar10 import CIFAR10
from blocks.data.datasets.hdf5 import H5PYDataset
from blocks.data.datasets.mnist import MNIST
from blocks.data.datasets.text import TextFile

__all__ = ['CIFAR10', 'Dataset', 'H5PYDataset', 'IndexableDataset',
           'IterableDataset', 'MNIST', 'OneBillionWord', 'TextFile']
