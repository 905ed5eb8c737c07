"""Annotated computation graphs.

The code lives in :mod:`blocks.graph.computation_graph`,
:mod:`blocks.graph.annotations` and :mod:`blocks.graph.transformations`;
this module re-exports it.
"""
from blocks.graph.annotations import add_annotation, Annotation
from blocks.graph.bn import (apply_batch_normalization, batch_normalization,
                             get_batch_normalization_updates)
from blocks.graph.computation_graph import ComputationGraph
from blocks.graph.transformations import (
    apply_dropout, apply_noise, collect_parameters)
# The reference's module imported these, and scripts import them from here.
from blocks.roles import (
    add_role, has_roles, AUXILIARY, COLLECTED, COLLECTOR, DROPOUT, PARAMETER)

__all__ = ['add_annotation', 'Annotation', 'ComputationGraph',
           'apply_dropout', 'apply_noise', 'collect_parameters',
           'apply_batch_normalization', 'batch_normalization',
           'get_batch_normalization_updates',
           'add_role', 'has_roles', 'AUXILIARY', 'COLLECTED', 'COLLECTOR',
           'DROPOUT', 'PARAMETER']
