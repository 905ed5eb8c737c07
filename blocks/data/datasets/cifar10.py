"""The CIFAR-10 images (``fuel.datasets.cifar10``)."""
from blocks.data.datasets._converted import ConvertedDataset
from blocks.data.transformers.defaults import uint8_pixels_to_floatX


class CIFAR10(ConvertedDataset):
    """CIFAR-10, read from ``cifar10.hdf5`` in the data path.

    Build the file with ``blocks-convert cifar10``. Sources ``features``
    (``(N, 3, 32, 32)`` uint8) and ``targets`` (``(N, 1)`` uint8); splits
    ``train`` (50000) and ``test`` (10000). The default stream scales the
    pixels to floatX values in [0, 1].

    Parameters
    ----------
    which_sets
        Splits to use, e.g. ``('train',)``.
    **kwargs
        Passed to :class:`~blocks.data.datasets.H5PYDataset`;
        ``load_in_memory`` defaults to ``True``.

    """

    filename = 'cifar10.hdf5'
    default_transformers = uint8_pixels_to_floatX(('features',))
