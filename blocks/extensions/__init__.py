"""Training extensions: the callbacks that do most of the work of training.

The code lives in small modules; this package re-exports the public names so
that ``from blocks.extensions import SimpleExtension`` works.
"""
from blocks.extensions.base import (
                                    CallbackName,
                                    CompositeExtension,
                                    Predicate,
                                    SimpleExtension,
                                    TrainingExtension,
                                    always_true,
                                    callback,
                                    has_done_epochs,
)
from blocks.extensions.finish_after import FinishAfter
from blocks.extensions.nonfinite import NonFiniteError, TerminateOnNonFinite
from blocks.extensions.printing import Printing
from blocks.extensions.progress import ProgressBar
from blocks.extensions.timing import Timestamp, Timing, get_timestamp

__all__ = ['CallbackName', 'CompositeExtension', 'FinishAfter',
           'NonFiniteError', 'Predicate', 'Printing', 'ProgressBar',
           'SimpleExtension', 'TerminateOnNonFinite', 'Timestamp', 'Timing',
           'TrainingExtension', 'always_true', 'callback', 'get_timestamp',
           'has_done_epochs']
