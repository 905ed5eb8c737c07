"""Carry the training algorithm's state from a saved main loop to a new one.

When a training script is run again with ``Load(path,
load_iteration_state=True)``, it builds a new graph and a new algorithm;
the checkpoint holds the old ones, pickled with the main loop. The state
that makes training continue exactly where it stopped lives in shared
variables of the algorithm's graph: step-rule buffers (Adam's moments and
time step), hyperparameters changed during training, monitoring
accumulators, and the random generators of dropout and noise. Those of the
old and the new graph are matched by position in a deterministic walk of
the algorithm's updates, which the same script reproduces, and checked by
name and type.
"""
import copy
from typing import Any
from collections.abc import Mapping

import numpy

state_mismatch_message = """the training algorithm in {path} does not \
match the one being trained: {reason}.
Saved ({n_saved}): {saved}
Current ({n_current}): {current}
Resuming with load_iteration_state=True needs the training script that \
wrote the checkpoint, unchanged (same bricks, step rule, monitoring and \
dropout, built in the same order). Use load_iteration_state=False to load \
only the parameters (and the log with load_log=True)."""


def _updates(algorithm: Any) -> list[Any]:
    updates = getattr(algorithm, 'updates', None) or []
    if isinstance(updates, Mapping):
        updates = list(updates.items())
    return updates


def algorithm_state_variables(algorithm: Any) -> list[Any]:
    """The shared variables the algorithm's updates read or write.

    In the order of a depth-first walk of the update pairs ``(variable,
    expression)``, which is the same for graphs built by the same code.
    Includes the parameters.
    """
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.traversal import ancestors
    roots: list[Any] = []
    for variable, expression in _updates(algorithm):
        roots.extend((variable, expression))
    found, seen = [], set()
    for variable in ancestors(roots):
        if isinstance(variable, SharedVariable) and id(variable) not in seen:
            seen.add(id(variable))
            found.append(variable)
    return found


def _describe(variable: Any) -> str:
    return f"{variable.name or '<unnamed>'}: {variable.type}"


def _value_shape(value: Any) -> tuple[int, ...] | None:
    return value.shape if isinstance(value, numpy.ndarray) else None


def restore_algorithm_state(algorithm: Any, saved_algorithm: Any,
                            path: str = 'the checkpoint',
                            skip: Any = ()) -> int:
    """Copy the state of ``saved_algorithm`` into ``algorithm``.

    Parameters
    ----------
    algorithm : :class:`~blocks.algorithms.UpdatesAlgorithm`
        The algorithm being trained.
    saved_algorithm : :class:`~blocks.algorithms.UpdatesAlgorithm`
        The algorithm unpickled from a checkpoint.
    path : str
        The checkpoint, for error messages.
    skip : iterable of shared variables
        Variables of ``algorithm`` not to set (the parameters, already
        loaded by name).

    Returns
    -------
    int
        The number of variables set.

    Raises
    ------
    ValueError
        If the two algorithms' variables differ in number, name, type or
        shape; both lists are in the message.
    """
    current = algorithm_state_variables(algorithm)
    saved = algorithm_state_variables(saved_algorithm)

    def mismatch(reason: str) -> ValueError:
        return ValueError(state_mismatch_message.format(
            path=path, reason=reason, n_saved=len(saved),
            n_current=len(current),
            saved=', '.join(map(_describe, saved)) or 'none',
            current=', '.join(map(_describe, current)) or 'none'))

    if len(current) != len(saved):
        raise mismatch(f"it has {len(saved)} shared variables, the current "
                       f"one {len(current)}")
    pairs = []
    for i, (variable, saved_variable) in enumerate(
            zip(current, saved, strict=True)):
        if (variable.name != saved_variable.name
                or str(variable.type) != str(saved_variable.type)):
            raise mismatch(f"shared variable {i} is "
                           f"{_describe(saved_variable)} in the checkpoint "
                           f"but {_describe(variable)} now")
        value = saved_variable.get_value(borrow=True)
        current_shape = _value_shape(variable.get_value(borrow=True))
        if _value_shape(value) != current_shape:
            raise mismatch(f"shared variable {i} ({variable.name}) has shape "
                           f"{_value_shape(value)} in the checkpoint but "
                           f"{current_shape} now")
        pairs.append((variable, value))
    skip = {id(variable) for variable in skip}
    restored = 0
    for variable, value in pairs:
        if id(variable) in skip:
            continue
        variable.set_value(copy.deepcopy(value))
        restored += 1
    return restored
