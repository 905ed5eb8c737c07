"""Aggregate monitored quantities over batches and evaluate them on data.

The code lives in :mod:`blocks.monitoring.aggregation` and
:mod:`blocks.monitoring.evaluators`; this module re-exports it.
"""
from blocks.monitoring.aggregation import (AggregationScheme, Aggregator,
                                           Concatenate, Maximum, Mean,
                                           Minimum, MonitoredQuantity,
                                           Perplexity, TakeLast, concatenate,
                                           maximum, mean, minimum,
                                           perplexity, take_last)
from blocks.monitoring.evaluators import (AggregationBuffer,
                                          DatasetEvaluator,
                                          MonitoredQuantityBuffer)

__all__ = ['AggregationScheme', 'Aggregator', 'Concatenate', 'Maximum',
           'Mean', 'Minimum', 'MonitoredQuantity', 'Perplexity', 'TakeLast',
           'concatenate', 'maximum', 'mean', 'minimum', 'perplexity',
           'take_last', 'AggregationBuffer', 'DatasetEvaluator',
           'MonitoredQuantityBuffer']
