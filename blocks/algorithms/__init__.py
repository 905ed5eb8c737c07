"""Training algorithms.

The code lives in :mod:`blocks.algorithms.base`,
:mod:`blocks.algorithms.gradient_descent` and
:mod:`blocks.algorithms.step_rules`; this module re-exports it.
"""
from blocks.algorithms.base import (
    TrainingAlgorithm, UpdatesAlgorithm, determinism_error,
    source_missing_error, variable_mismatch_error)
from blocks.algorithms.gradient_descent import GradientDescent
from blocks.algorithms.step_rules import (
    AdaDelta, AdaGrad, Adam, BasicMomentum, BasicRMSProp, CompositeRule,
    Momentum, RemoveNotFinite, Restrict, RMSProp, Scale, StepClipping,
    StepRule, VariableClipping,
    _create_algorithm_buffer_for as _create_algorithm_buffer_for)

__all__ = ['TrainingAlgorithm', 'UpdatesAlgorithm', 'GradientDescent',
           'StepRule', 'CompositeRule', 'Scale', 'BasicMomentum', 'Momentum',
           'AdaDelta', 'BasicRMSProp', 'RMSProp', 'StepClipping',
           'VariableClipping', 'AdaGrad', 'Adam', 'RemoveNotFinite',
           'Restrict', 'variable_mismatch_error', 'source_missing_error',
           'determinism_error']
