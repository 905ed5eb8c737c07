"""The MNIST handwritten digits (``fuel.datasets.mnist``)."""
from blocks.data.datasets._converted import ConvertedDataset
from blocks.data.transformers.defaults import uint8_pixels_to_floatX


class MNIST(ConvertedDataset):
    """MNIST, read from ``mnist.hdf5`` in the data path.

    Build the file with ``blocks-convert mnist``. Sources ``features``
    (``(N, 1, 28, 28)`` uint8) and ``targets`` (``(N, 1)`` uint8); splits
    ``train`` (60000) and ``test`` (10000). The default stream
    (:meth:`~blocks.data.streams.DataStream.default_stream`) scales the
    pixels to floatX values in [0, 1].

    Parameters
    ----------
    which_sets
        Splits to use, e.g. ``('train',)``.
    **kwargs
        Passed to :class:`~blocks.data.datasets.H5PYDataset`;
        ``load_in_memory`` defaults to ``True``.

    """

    filename = 'mnist.hdf5'
    default_transformers = uint8_pixels_to_floatX(('features',))
