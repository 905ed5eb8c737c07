"""Datasets stored in HDF5 files in Fuel's layout (``fuel.datasets.hdf5``).

Layout: each source is a root-level HDF5 dataset named after it, examples on
its first axis; the root attribute ``'split'`` (see
:meth:`H5PYDataset.create_split_array`) says which rows of which source
belong to which split; axis labels are the dimension labels.
"""
import numbers
import os
from collections import defaultdict
from itertools import product
from typing import Any

import h5py
import numpy

from blocks.data.datasets.base import Dataset, check_index_requests
from blocks.data.schemes import SequentialExampleScheme
from blocks.data.utils import Subset, cache_file, do_not_pickle_attributes

_LAZY = ('data_sources', 'external_file_handle', 'source_shapes',
         'in_memory_subset', 'subsets')


def open_h5file(path: str, driver: str | None = None) -> h5py.File:
    """Open an HDF5 file for reading, with errors naming the file."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"HDF5 file {path!r} does not exist; check the path, or build "
            "the file (e.g. with blocks-convert)")
    try:
        return h5py.File(path, mode='r', driver=driver)
    except OSError as exc:
        raise OSError(
            f"cannot read {path!r} as an HDF5 file ({exc}); it is corrupt, "
            "truncated or not HDF5: rebuild it (e.g. with blocks-convert)"
        ) from exc


def _split_array(h5file: h5py.File) -> numpy.ndarray:
    try:
        return h5file.attrs['split']
    except KeyError:
        raise ValueError(
            f"{h5file.filename!r} has no 'split' attribute, so it is not in "
            "the H5PYDataset layout; write one with "
            "h5file.attrs['split'] = H5PYDataset.create_split_array(...)"
        ) from None


def _source(h5file: h5py.File, name: str) -> h5py.Dataset:
    try:
        return h5file[name]
    except KeyError:
        raise ValueError(
            f"{h5file.filename!r} lists source {name!r} in its 'split' "
            "attribute but holds no dataset of that name; the file is "
            "incomplete: rebuild it") from None


@do_not_pickle_attributes(*_LAZY)
class H5PYDataset(Dataset):
    """A dataset read from an HDF5 file in Fuel's layout.

    The data is read from disk on each request, or loaded in memory once.
    Pickling keeps the file path, never the file handle: an unpickled
    dataset reopens the file when it is first read.

    Parameters
    ----------
    file_or_path
        Path of the file, or an open :class:`h5py.File` (used as is; a
        pickled copy reopens the file by its path).
    which_sets
        Names of the splits to use, concatenated in order, e.g.
        ``('train',)`` (not a plain string).
    subset
        Slice or list of examples, relative to the concatenated splits.
    load_in_memory
        Read all the data once, at load time.
    driver
        HDF5 driver passed to :class:`h5py.File`.
    sort_indices
        Read list requests in increasing order (h5py requires it) and
        restore the requested order afterwards.
    sources, axis_labels
        As for :class:`~blocks.data.datasets.Dataset`; sources default to
        the sorted sources available in all the requested splits.

    Examples
    --------
    >>> import h5py, numpy, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), 'toy.hdf5')
    >>> with h5py.File(path, 'w') as f:
    ...     f['x'] = numpy.arange(10)
    ...     f.attrs['split'] = H5PYDataset.create_split_array(
    ...         {'train': {'x': (0, 8)}, 'test': {'x': (8, 10)}})
    >>> test = H5PYDataset(path, which_sets=('test',))
    >>> test.num_examples, test.get_data(request=slice(0, 2))
    (2, (array([8, 9]),))

    """

    interface_version = '0.3'
    _ref_counts = defaultdict(int)
    _file_handles = {}

    def __init__(self, file_or_path: str | h5py.File, which_sets: Any,
                 subset: slice | list | None = None,
                 load_in_memory: bool = False, driver: str | None = None,
                 sort_indices: bool = True, **kwargs: Any) -> None:
        if isinstance(file_or_path, h5py.File):
            self.path = file_or_path.filename
            self.external_file_handle = file_or_path
        else:
            self.path = cache_file(os.fspath(file_or_path))
            self.external_file_handle = None
        if (isinstance(which_sets, str)
                or not all(isinstance(s, str) for s in which_sets)):
            raise ValueError(
                "`which_sets` should be an iterable of strings, got "
                f"{which_sets!r}; write ('train',) rather than 'train'")
        self.which_sets = which_sets
        self.user_given_subset = subset if subset else slice(None)
        self.load_in_memory = load_in_memory
        self.driver = driver
        self.sort_indices = sort_indices
        self._parse_dataset_info()
        requested = kwargs.get('sources')
        if requested is not None:
            missing = [s for s in requested if s not in self.provides_sources]
            if missing:
                raise ValueError(
                    f"unable to provide requested sources {missing!r}: "
                    f"{self.path!r} provides {self.provides_sources!r} for "
                    f"splits {tuple(which_sets)!r}; request some of those")
        kwargs.setdefault('axis_labels', self.default_axis_labels)
        super().__init__(**kwargs)
        self.example_iteration_scheme = SequentialExampleScheme(
            self.num_examples)

    @property
    def sources(self) -> tuple[str, ...]:
        return super().sources

    @sources.setter
    def sources(self, value: tuple[str, ...]) -> None:
        self._sources = value
        # The loaded subsets and data are per source: load them again.
        for name in _LAZY:
            if name != 'external_file_handle':
                self.__dict__.pop('_' + name, None)

    def _parse_dataset_info(self) -> None:
        self._out_of_memory_open()
        try:
            handle = self._file_handle
            available_splits = self.get_all_splits(handle)
            provides_sources = None
            for split in self.which_sets:
                if split not in available_splits:
                    raise ValueError(
                        f"'{split}' split is not provided by this dataset. "
                        f"Available splits are {available_splits}. "
                        f"(file {self.path!r})")
                split_sources = set(self.get_provided_sources(handle, split))
                if provides_sources is None:
                    provides_sources = split_sources
                else:
                    provides_sources &= split_sources
            self.provides_sources = tuple(sorted(provides_sources or ()))
            if not self.provides_sources:
                raise ValueError(
                    f"{self.path!r} has no source available in all of the "
                    f"splits {tuple(self.which_sets)!r}")
            self.vlen_sources = self.get_vlen_sources(handle)
            self.default_axis_labels = self.get_axis_labels(handle)
        finally:
            self._out_of_memory_close()

    @staticmethod
    def create_split_array(split_dict: dict) -> numpy.ndarray:
        """Build the ``'split'`` attribute of a file.

        Parameters
        ----------
        split_dict
            ``{split: {source: (start, stop[, indices[, comment]])}}``.
            ``indices`` is ``None`` or an :class:`h5py.Reference` to an
            integer dataset of example indices (then start and stop are
            ignored); an empty comment becomes ``'.'``.

        Returns
        -------
        numpy.ndarray
            One row per (split, source), splits in ``split_dict`` order and
            sources sorted; pairs absent from ``split_dict`` have
            ``available`` false.

        """
        sources = sorted(set().union(*(split.keys()
                                       for split in split_dict.values())))
        comments = [val[3] for split in split_dict.values()
                    for val in split.values() if len(val) > 3 and val[3]]
        split_len = max(len(split.encode('utf8')) for split in split_dict)
        source_len = max(len(source.encode('utf8')) for source in sources)
        comment_len = max([1] + [len(c.encode('utf8')) for c in comments])
        split_array = numpy.empty(
            len(split_dict) * len(sources),
            dtype=numpy.dtype([
                ('split', f'S{split_len}'),
                ('source', f'S{source_len}'),
                ('start', numpy.int64),
                ('stop', numpy.int64),
                ('indices', h5py.special_dtype(ref=h5py.Reference)),
                ('available', bool),
                ('comment', f'S{comment_len}')]))
        for i, (split, source) in enumerate(product(split_dict, sources)):
            if source in split_dict[split]:
                value = split_dict[split][source]
                start, stop = value[:2]
                indices = value[2] if len(value) > 2 else None
                comment = value[3] if len(value) > 3 and value[3] else '.'
                available = True
            else:
                start, stop, indices, available, comment = (
                    0, 0, None, False, '.')
            if indices is None:
                indices = h5py.Reference()
            split_array[i]['split'] = split.encode('utf8')
            split_array[i]['source'] = source.encode('utf8')
            split_array[i]['start'] = start
            split_array[i]['stop'] = stop
            split_array[i]['indices'] = indices
            split_array[i]['available'] = available
            split_array[i]['comment'] = comment.encode('utf8')
        return split_array

    @staticmethod
    def get_all_splits(h5file: h5py.File) -> tuple[str, ...]:
        """Names of the splits of a file."""
        return tuple(dict.fromkeys(
            s.decode('utf8') for s in _split_array(h5file)['split']))

    @staticmethod
    def get_all_sources(h5file: h5py.File) -> tuple[str, ...]:
        """Names of the sources of a file."""
        return tuple(dict.fromkeys(
            s.decode('utf8') for s in _split_array(h5file)['source']))

    @staticmethod
    def get_provided_sources(h5file: h5py.File, split: str
                             ) -> tuple[str, ...]:
        """Names of the sources available in a split."""
        return tuple(row['source'].decode('utf8')
                     for row in _split_array(h5file)
                     if row['split'].decode('utf8') == split
                     and row['available'])

    @staticmethod
    def get_vlen_sources(h5file: h5py.File) -> list[str]:
        """Names of the variable-length sources of a file."""
        vlen_sources = []
        for source_name in H5PYDataset.get_all_sources(h5file):
            source = _source(h5file, source_name)
            if len(source.dims) > 0 and 'shapes' in source.dims[0].keys():
                if len(source.dims) > 1:
                    raise ValueError('Variable-length sources must have only '
                                     'one dimension.')
                vlen_sources.append(source_name)
        return vlen_sources

    @staticmethod
    def get_axis_labels(h5file: h5py.File) -> dict[str, tuple]:
        """Axis labels of each source of a file."""
        axis_labels = {}
        vlen_sources = H5PYDataset.get_vlen_sources(h5file)
        for source_name in H5PYDataset.get_all_sources(h5file):
            dims = _source(h5file, source_name).dims
            if source_name in vlen_sources:
                axis_labels[source_name] = (dims[0].label,) + tuple(
                    label.decode('utf8')
                    for label in dims[0]['shape_labels'])
            else:
                axis_labels[source_name] = tuple(dim.label for dim in dims)
        return axis_labels

    @staticmethod
    def get_subsets(h5file: h5py.File, splits: Any, sources: Any
                    ) -> list[Subset]:
        """Per source, the :class:`Subset` of the rows of ``splits``."""
        split_array = _split_array(h5file)
        lengths = [len(_source(h5file, source)) for source in sources]
        subsets = [Subset.empty_subset(length) for length in lengths]
        for split in splits:
            for i, source in enumerate(sources):
                row, = [r for r in split_array
                        if r['split'].decode('utf8') == split
                        and r['source'].decode('utf8') == source]
                if row['indices']:
                    subsets[i] += Subset(h5file[row['indices']][()],
                                         lengths[i])
                else:
                    subsets[i] += Subset(slice(row['start'], row['stop']),
                                         lengths[i])
        return subsets

    def load(self) -> None:
        """Compute the subsets, and read the data when ``load_in_memory``."""
        # An unpickled dataset has lost its external handle: use the path.
        if '_external_file_handle' not in self.__dict__:
            self.external_file_handle = None
        self._out_of_memory_open()
        try:
            handle = self._file_handle
            subsets = self.get_subsets(handle, self.which_sets, self.sources)
            lengths = [subset.num_examples for subset in subsets]
            if len(set(lengths)) > 1:
                raise ValueError(
                    "sources have different lengths "
                    f"({dict(zip(self.sources, lengths))}) in {self.path!r} "
                    f"for splits {tuple(self.which_sets)!r}; the file is "
                    "inconsistent: rebuild it")
            try:
                self.subsets = [Subset.subset_of(subset,
                                                 self.user_given_subset)
                                for subset in subsets]
            except ValueError as exc:
                raise ValueError(
                    f"subset {self.user_given_subset!r} does not fit the "
                    f"{lengths[0]} examples of splits "
                    f"{tuple(self.which_sets)!r} in {self.path!r}: {exc}"
                ) from exc
            if self.load_in_memory:
                data_sources = []
                source_shapes = []
                for source_name, subset in zip(self.sources, self.subsets):
                    data_sources.append(subset.index_within_subset(
                        handle[source_name], slice(None)))
                    if source_name in self.vlen_sources:
                        shapes = subset.index_within_subset(
                            handle[source_name].dims[0]['shapes'],
                            slice(None))
                    else:
                        shapes = None
                    source_shapes.append(shapes)
                self.data_sources = data_sources
                self.source_shapes = source_shapes
                self.in_memory_subset = Subset(slice(None),
                                               len(self.data_sources[0]))
            else:
                self.data_sources = None
                self.source_shapes = None
                self.in_memory_subset = None
        finally:
            self._out_of_memory_close()

    @property
    def num_examples(self) -> int:
        """Number of examples of the selected splits and subset."""
        return self.subsets[0].num_examples

    def open(self) -> None:
        if not self.load_in_memory:
            self._out_of_memory_open()
        return None

    def _out_of_memory_open(self) -> None:
        if not self.external_file_handle:
            if self.path not in self._file_handles:
                self._file_handles[self.path] = open_h5file(self.path,
                                                            self.driver)
            self._ref_counts[self.path] += 1

    def close(self, state: Any) -> None:
        if not self.load_in_memory:
            self._out_of_memory_close()

    def _out_of_memory_close(self) -> None:
        if self.external_file_handle or self.path not in self._file_handles:
            return
        self._ref_counts[self.path] -= 1
        if self._ref_counts[self.path] <= 0:
            del self._ref_counts[self.path]
            self._file_handles.pop(self.path).close()

    @property
    def _file_handle(self) -> h5py.File:
        if self.external_file_handle:
            return self.external_file_handle
        if self.path in self._file_handles:
            return self._file_handles[self.path]
        raise OSError(f"no open handle for file {self.path!r}; call open() "
                      "first")

    def get_data(self, state: Any = None, request: Any = None) -> tuple:
        if self.load_in_memory:
            data, shapes = self._in_memory_get_data(state, request)
        else:
            data, shapes = self._out_of_memory_get_data(state, request)
        for i, source_shapes in enumerate(shapes):
            if source_shapes is None:
                continue
            if isinstance(request, numbers.Integral):
                data[i] = data[i].reshape(source_shapes)
            else:
                reshaped = numpy.empty(len(data[i]), dtype=object)
                for j, (example, shape) in enumerate(zip(data[i],
                                                         source_shapes)):
                    reshaped[j] = example.reshape(shape)
                data[i] = reshaped
        return tuple(data)

    def _check_iteration_scheme(self, iteration_scheme: Any) -> None:
        check_index_requests(self, iteration_scheme)

    def _returns_new_arrays(self, request: Any) -> bool:
        if self.load_in_memory:
            return isinstance(request, list)
        return isinstance(request, (list, slice))

    def _in_memory_get_data(self, state: Any = None, request: Any = None
                            ) -> tuple[list, list]:
        if state is not None or request is None:
            raise ValueError(
                "an in-memory H5PYDataset needs a request and no state, got "
                f"state {state!r} and request {request!r}")
        subset = self.in_memory_subset
        data = [subset.index_within_subset(data_source, request)
                for data_source in self.data_sources]
        shapes = [subset.index_within_subset(shape, request)
                  if shape is not None else None
                  for shape in self.source_shapes]
        return data, shapes

    def _out_of_memory_get_data(self, state: Any = None, request: Any = None
                                ) -> tuple[list, list]:
        if not isinstance(request, (numbers.Integral, slice, list)):
            raise ValueError(
                "H5PYDataset reading from disk needs an index, a slice or a "
                f"list of indices as request, got {request!r}")
        if (not self.external_file_handle
                and self.path not in self._file_handles):
            # Never opened, or unpickled: open the file now.
            self._out_of_memory_open()
        handle = self._file_handle
        data = []
        shapes = []
        for source_name, subset in zip(self.sources, self.subsets):
            data.append(subset.index_within_subset(
                handle[source_name], request, sort_indices=self.sort_indices))
            if source_name in self.vlen_sources:
                shapes.append(subset.index_within_subset(
                    handle[source_name].dims[0]['shapes'], request,
                    sort_indices=self.sort_indices))
            else:
                shapes.append(None)
        return data, shapes
