"""Base of the datasets that ``blocks-convert`` builds into the data path."""
from typing import Any

from blocks.data.datasets.hdf5 import H5PYDataset
from blocks.data.utils import find_in_data_path


class ConvertedDataset(H5PYDataset):
    """An :class:`H5PYDataset` read from ``filename`` in the data path.

    Subclasses set ``filename``. The file is looked up at construction
    (:class:`OSError` if absent,
    :class:`~blocks.data.exceptions.ConfigurationError` if the data path is
    not set).

    Parameters
    ----------
    which_sets
        Splits to use, e.g. ``('train',)``.
    **kwargs
        Passed to :class:`H5PYDataset`; ``load_in_memory`` defaults to
        ``True``.

    """

    filename: str

    def __init__(self, which_sets: Any, **kwargs: Any) -> None:
        kwargs.setdefault('load_in_memory', True)
        super().__init__(file_or_path=find_in_data_path(self.filename),
                         which_sets=which_sets, **kwargs)
