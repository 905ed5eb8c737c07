"""Helpers of the data layer (Fuel's ``fuel.utils``)."""
from blocks.data.utils.cache import cache_file
from blocks.data.utils.lazy import (do_not_pickle_attributes,
                                    lazy_property_factory)
from blocks.data.utils.paths import find_in_data_path, remember_cwd
from blocks.data.utils.subset import Subset, iterable_fancy_indexing

buffer_ = memoryview

__all__ = ['Subset', 'buffer_', 'cache_file', 'do_not_pickle_attributes',
           'find_in_data_path', 'iterable_fancy_indexing',
           'lazy_property_factory', 'remember_cwd']
