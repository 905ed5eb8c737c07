"""Extensions that adjust training: schedules and best-value tracking."""
import inspect
import logging
from collections.abc import Callable
from typing import Any, cast

import numpy

from blocks.extensions.base import SimpleExtension
from blocks.extensions.protocol import BEST_PREFIX, BEST_SO_FAR_SUFFIX
from blocks.extensions.record_watch import LogRecordWatcher

logger = logging.getLogger(__name__)

__all__ = ['SharedVariableModifier', 'TrackTheBest']

NOT_A_SCALAR_RECORD = (
    "TrackTheBest({record!r}) compares values of the record, which needs a "
    "scalar, but the log holds an array of shape {shape}. Monitor a scalar "
    "instead (reduce the variable, e.g. `error.mean()`, or give it an "
    "aggregation scheme that yields a scalar).")

WRONG_ARITY = (
    "SharedVariableModifier calls its function with {n} argument(s) "
    "({what}), as inferred from its signature {signature}, but the function "
    "can not be called so: {error}. Give a function of (iterations_done) or "
    "of (iterations_done, old_value), or pass num_args=1 or num_args=2.")


class SharedVariableModifier(SimpleExtension):
    """Adjusts shared variable parameter using some function.

    Applies a function to compute the new value of a shared parameter each
    iteration. This class can be used to adapt over the training process
    parameters like learning rate, momentum, etc.

    Parameters
    ----------
    parameter : :class:`~pytensor.compile.sharedvalue.SharedVariable`
        Shared variable to be adjusted.
    function : callable
        A function which outputs a numeric value to which the given shared
        variable will be set and may take one or two arguments.

        In the first case, function that takes the total number of
        iterations done (int) as an input.

        In the second case, it is a function which takes number of
        iterations done (int) and old value of the shared variable (with
        the same dtype as `parameter`).
    num_args : int, optional
        The number of arguments to pass to the function. If unspecified, it
        will be inferred: the number of named positional parameters of the
        function, those with defaults included. This is useful if you are
        using function-like objects for which the arity of the function
        cannot be inferred.

    Notes
    -----
    This class includes a method ``function`` that calls the function
    passed in the constructor and a ``num_args`` property which computes
    the number of arguments to use by inspecting the function object.
    Subclasses may override a method called ``function`` and/or the
    ``num_args`` property and instead pass ``None`` to the superclass
    constructor.

    By default the extension runs after every batch, so the function sees
    the number of iterations done *including* the batch just processed.

    Examples
    --------
    Step decay, halving the learning rate every 1000 batches, and
    exponential decay by 1% per epoch:

    >>> from blocks.utils import shared_floatx
    >>> learning_rate = shared_floatx(0.1, 'learning_rate')
    >>> step_decay = SharedVariableModifier(
    ...     learning_rate, lambda n: 0.1 * 0.5 ** (n // 1000))
    >>> exponential_decay = SharedVariableModifier(
    ...     learning_rate, lambda iterations, value: value * 0.99,
    ...     after_batch=False, after_epoch=True)
    >>> step_decay.num_args, exponential_decay.num_args
    (1, 2)

    """

    def __init__(self, parameter: Any, function: Callable[..., Any] | None,
                 num_args: int | None = None, **kwargs: Any):
        kwargs.setdefault("after_batch", True)
        super().__init__(**kwargs)
        if function is not None and not callable(function):
            raise TypeError(f"function must be callable (or None when a "
                            f"subclass overrides `function`), got "
                            f"{function!r}")
        if num_args is not None and num_args not in (1, 2):
            raise ValueError(f"num_args must be 1 or 2 (the function is "
                             f"called with the number of iterations done and, "
                             f"for 2, the old value), got {num_args!r}")
        self.parameter = parameter
        self._function = function
        self._num_args = num_args
        if function is not None and num_args is None:
            self._check_arity()

    @property
    def num_args(self) -> int:
        if self._num_args is None:
            # Upstream counts `inspect.getargspec(function).args`, i.e. the
            # named positional parameters, defaulted ones included.
            # `signature` also leaves out a bound method's `self` (which
            # getargspec counted, so that upstream called one-argument
            # methods with two arguments).
            function = cast(Callable[..., Any], self._function)
            parameters = inspect.signature(function).parameters
            self._num_args = sum(
                parameter.kind in (parameter.POSITIONAL_ONLY,
                                   parameter.POSITIONAL_OR_KEYWORD)
                for parameter in parameters.values())
        return self._num_args

    def _check_arity(self) -> None:
        """Fail now, not at the first batch, if the function can't run."""
        try:
            signature = inspect.signature(
                cast(Callable[..., Any], self._function))
        except (TypeError, ValueError):
            # Some builtins have no signature: call them and see.
            return
        n = 1 if self.num_args == 1 else 2
        try:
            signature.bind(*range(n))
        except TypeError as error:
            what = ('iterations_done' if n == 1
                    else 'iterations_done, old_value')
            raise ValueError(WRONG_ARITY.format(
                n=n, what=what, signature=signature, error=error)) from error

    def function(self, *args: Any) -> Any:
        return cast(Callable[..., Any], self._function)(*args)

    def do(self, which_callback: str, *args: Any) -> None:
        iterations_done = self.main_loop.log.status['iterations_done']
        if self.num_args == 1:
            new_value = self.function(iterations_done)
        else:
            old_value = self.parameter.get_value()
            new_value = self.function(iterations_done, old_value)
        dtype = self.parameter.dtype
        if numpy.dtype(dtype).kind == 'f':
            # A Python float or a float64 result of a float32 parameter
            # would otherwise be refused as a downcast.
            new_value = numpy.asarray(new_value, dtype=dtype)
        self.parameter.set_value(new_value)


class TrackTheBest(LogRecordWatcher, SimpleExtension):
    """Check if a log quantity has the minimum/maximum value so far.

    Parameters
    ----------
    record_name : str
        The name of the record to track.
    notification_name : str, optional
        The name for the record to be made in the log when the current
        value of the tracked quantity is the best so far. It not given,
        `record_name` plus "_best_so_far" suffix is used.
    choose_best : callable, optional
        A function that takes the current value and the best so far and
        return the best of two. By default :func:`min`, which corresponds
        to tracking the minimum value.

    Attributes
    ----------
    best_name : str
        The name of the status record to keep the best value so far.
    notification_name : str
        The name of the record written to the log when the current value of
        the tracked quantity is the best so far.

    Notes
    -----
    In the likely case that you are relying on another extension to add
    the tracked quantity to the log, make sure to place this extension
    after the extension that writes the quantity to the log in the
    `extensions` argument to :class:`~blocks.main_loop.MainLoop`.

    A value equal to the best so far is not a new best. If the record has
    not appeared by the first time this extension runs after the first
    epoch, a warning names it and the records that do exist.

    Examples
    --------
    >>> track = TrackTheBest('valid_error', choose_best=min)
    >>> track.notification_name, track.best_name
    ('valid_error_best_so_far', 'best_valid_error')

    """

    def __init__(self, record_name: str, notification_name: str | None = None,
                 choose_best: Callable[[Any, Any], Any] = min, **kwargs: Any):
        if not callable(choose_best):
            raise TypeError(f"choose_best must be a callable such as min or "
                            f"max, got {choose_best!r}")
        self.record_name = record_name
        if not notification_name:
            notification_name = record_name + BEST_SO_FAR_SUFFIX
        self.notification_name = notification_name
        self.best_name = BEST_PREFIX + record_name
        self.choose_best = choose_best
        kwargs.setdefault("after_epoch", True)
        super().__init__(record_name, warn_if_never_seen=True, **kwargs)

    def do(self, which_callback: str, *args: Any) -> None:
        log = self.main_loop.log
        current_value = self.watched_value(log)
        if current_value is None:
            return
        if numpy.size(current_value) != 1:
            raise ValueError(NOT_A_SCALAR_RECORD.format(
                record=self.record_name, shape=numpy.shape(current_value)))
        best_value = log.status.get(self.best_name, None)
        if (best_value is None or
                (current_value != best_value and
                 self.choose_best(current_value, best_value) ==
                 current_value)):
            log.status[self.best_name] = current_value
            log.current_row[self.notification_name] = True
