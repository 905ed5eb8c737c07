"""Transformers: streams that change the data of another stream
(Fuel's ``fuel.transformers``). Sequence transformers live in
:mod:`blocks.data.transformers.sequences`, default chains in
:mod:`blocks.data.transformers.defaults`."""
from blocks.data.transformers.background import (BackgroundProcess,
                                                 MultiProcessing)
from blocks.data.transformers.base import (AgnosticSourcewiseTransformer,
                                           AgnosticTransformer,
                                           ExpectsAxisLabels,
                                           SourcewiseTransformer, Transformer)
from blocks.data.transformers.batching import Batch, Cache, Padding, Unpack
from blocks.data.transformers.elementwise import (Cast, Flatten, ForceFloatX,
                                                  ScaleAndShift)
from blocks.data.transformers.mapping import Filter, Mapping, SortMapping
from blocks.data.transformers.sources import FilterSources, Merge, Rename

__all__ = ['AgnosticSourcewiseTransformer', 'AgnosticTransformer',
           'BackgroundProcess', 'Batch', 'Cache', 'Cast', 'ExpectsAxisLabels',
           'Filter', 'FilterSources', 'Flatten', 'ForceFloatX', 'Mapping',
           'Merge', 'MultiProcessing', 'Padding', 'Rename', 'ScaleAndShift',
           'SortMapping', 'SourcewiseTransformer', 'Transformer', 'Unpack']
