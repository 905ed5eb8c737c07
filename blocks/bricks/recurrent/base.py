"""The recurrent protocol: :class:`BaseRecurrent` and :func:`recurrent`.

A recurrent brick writes the computation of **one step** and decorates it
with :func:`recurrent`, which turns it into an application that runs the
whole loop with :func:`pytensor.scan`. Tensors are time-major: a sequence
is ``(time, batch, features...)``, one step ``(batch, features...)``.
"""
import inspect
import logging
import warnings

import pytensor
from pytensor import tensor
from pytensor.graph.basic import Variable
from pytensor.graph.traversal import graph_inputs
from pytensor.graph.replace import graph_replace
from pytensor.raise_op import Assert
from pytensor.scan.op import Scan

from blocks.bricks.base import Application, application, Brick, _describe
from blocks.bricks.recurrent.saved import save_intermediates
from blocks.bricks.recurrent.step_mode import step_mode
from blocks.initialization import NdarrayInitialization
from blocks.utils import dict_subset, dict_union, pack
from blocks.utils.theano_utils import is_graph_input

__all__ = ['BaseRecurrent', 'recurrent']

logger = logging.getLogger(__name__)

unknown_scan_input = """

Your function uses a non-shared variable other than those given \
by scan explicitly. That can significantly slow down `tensor.grad` \
call. Did you forget to declare it in `contexts`?"""

_TIME_MAJOR_HELP = (
    "sequences are time-major, (time, batch, features...); a batch-major "
    "array (batch, time, ...) is turned around with x.dimshuffle(1, 0, 2) "
    "(x.swapaxes(0, 1) in NumPy)")

_CONTEXT_HELP = (
    "a variable that is the same at every step (e.g. a (batch, features) "
    "matrix) is a context: declare it in `contexts` of the @recurrent "
    "decorator, not in `sequences`")


class BaseRecurrent(Brick):
    """Base class for brick with recurrent application method."""

    # Misspelled upstream and without effect; kept for compatibility.
    has_bias = False

    @application
    def initial_states(self, batch_size, *args, **kwargs):
        r"""Return initial states for an application call.

        Default implementation assumes that the recurrent application
        method is called `apply`. It fetches the state names
        from `apply.states` and a returns a zero matrix for each of them.

        :class:`SimpleRecurrent`, :class:`LSTM` and :class:`GatedRecurrent`
        override this method with trainable initial states initialized
        with zeros.

        Parameters
        ----------
        batch_size : int
            The batch size.
        \*args
            The positional arguments of the application call.
        \*\*kwargs
            The keyword arguments of the application call.

        """
        result = []
        for state in self.apply.states:
            dim = self.get_dim(state)
            if dim == 0:
                result.append(tensor.zeros((batch_size,)))
            else:
                result.append(tensor.zeros((batch_size, dim)))
        return result

    @initial_states.property('outputs')
    def initial_states_outputs(self):
        return self.apply.states


def _has_graph_inputs(variable) -> bool:
    """Whether `variable` depends on anything but shared variables.

    The application copied its keyword inputs, so a shared variable
    arrives as the copy of one.
    """
    return any(is_graph_input(input_)
               for input_ in graph_inputs([variable]))


def _where(brick, application) -> str:
    return f"{_describe(brick)}, application {application.name}()"


def _expected_ndim(brick, name, extra):
    """The ndim of `name` with `extra` leading axes, if `get_dim` knows."""
    try:
        dim = brick.get_dim(name)
    except Exception:
        return None
    if dim == 0:
        return extra
    if isinstance(dim, int):
        return extra + 1
    if isinstance(dim, tuple):
        return extra + len(dim)
    return None


def _check_sequences(brick, application, sequences):
    """Raise early on sequences whose axes cannot be time-major."""
    where = _where(brick, application)
    for name, sequence in sequences.items():
        expected = _expected_ndim(brick, name, 2)
        if expected is not None and sequence.ndim != expected:
            context = (f"; {_CONTEXT_HELP}" if sequence.ndim == expected - 1
                       else f"; {_TIME_MAJOR_HELP}")
            raise ValueError(
                f"{where}: sequence '{name}' has {sequence.ndim} axes, "
                f"expected {expected} (time, batch"
                f"{', features' if expected > 2 else ''})" + context)
    if 'mask' not in sequences or len(sequences) < 2:
        return sequences
    mask = sequences['mask']
    name, other = next((key, value) for key, value in sequences.items()
                       if key != 'mask')
    static_mask = mask.type.shape[:2]
    static_other = other.type.shape[:2]
    mismatch = [a != b for a, b in zip(static_mask, static_other, strict=True)
                if a is not None and b is not None]
    message = (f"{where}: the mask's (time, batch) shape disagrees with "
               f"the first two axes of sequence '{name}'; "
               + _TIME_MAJOR_HELP)
    if any(mismatch):
        raise ValueError(
            f"{message} (mask {tuple(static_mask)}, {name} "
            f"{tuple(static_other)})")
    if not all(a is not None and b is not None
               for a, b in zip(static_mask, static_other, strict=True)):
        agree = tensor.and_(tensor.eq(mask.shape[0], other.shape[0]),
                            tensor.eq(mask.shape[1], other.shape[1]))
        sequences['mask'] = Assert(message)(mask, agree)
    return sequences


def _check_state(brick, application, name, state):
    """Raise early on an initial state of the wrong dimension."""
    where = _where(brick, application)
    expected = _expected_ndim(brick, name, 1)
    if expected is not None and state.ndim != expected:
        raise ValueError(
            f"{where}: state '{name}' has {state.ndim} axes, expected "
            f"{expected} (batch{', features' if expected > 1 else ''}); "
            f"give the state of the first step, not a sequence")
    dim = brick.get_dim(name) if expected is not None else None
    if not isinstance(dim, int) or dim == 0:
        return state
    static = state.type.shape[-1]
    if static is not None and static != dim:
        raise ValueError(
            f"{where}: state '{name}' has dimension {static}, but the brick "
            f"expects get_dim('{name}') == {dim}")
    if static is None:
        message = (f"{where}: state '{name}' must have dimension {dim} on "
                   f"its last axis (get_dim('{name}'))")
        state = Assert(message)(state, tensor.eq(state.shape[-1], dim))
    return state


def _check_step_outputs(brick, application, outputs, states_given):
    """Raise when a step function does not return what `outputs` declares."""
    where = _where(brick, application)
    if len(outputs) != len(application.outputs):
        raise ValueError(
            f"{where}: the step function returned {len(outputs)} variables "
            f"but `outputs` declares {len(application.outputs)}: "
            f"{list(application.outputs)}; return one variable per name, in "
            f"that order")
    for name, output in zip(application.outputs, outputs, strict=True):
        if not isinstance(output, Variable):
            raise TypeError(
                f"{where}: output '{name}' of the step function is "
                f"{output!r}, not a symbolic variable")
        if name in states_given:
            state = states_given[name]
            if (output.ndim != state.ndim or
                    output.dtype != state.dtype):
                raise ValueError(
                    f"{where}: the step function returns state '{name}' "
                    f"with {output.ndim} axes and dtype {output.dtype}, but "
                    f"its value at the previous step has {state.ndim} axes "
                    f"and dtype {state.dtype}; the next state must look "
                    f"like the previous one")
            if any(out and not before for out, before in zip(
                    output.type.broadcastable, state.type.broadcastable,
                    strict=True)):
                raise ValueError(
                    f"{where}: the step function returns state '{name}' of "
                    f"static shape {output.type.shape}, which cannot take "
                    f"the place of its previous value of static shape "
                    f"{state.type.shape}")


def _unbroadcast(state, batch_size):
    """`state` with a batch axis that is not of static length 1.

    Scan requires the type of a state to be the type of its next value,
    and a step computed from a ``(1, dim)`` initial state and a batch of
    unknown size has an unknown batch size (Theano issue 1772 in the
    reference, which called ``tensor.unbroadcast``).
    """
    if state.ndim == 0 or state.type.shape[0] != 1:
        return state
    return tensor.alloc(state, batch_size, *state.shape[1:])


def _match_state_type(output, state):
    """`output` with the static length 1 axes of `state` specified."""
    if output.type.broadcastable == state.type.broadcastable:
        return output
    shape = [1 if state_length == 1 and output_length is None
             else output_length
             for state_length, output_length
             in zip(state.type.shape, output.type.shape, strict=True)]
    return tensor.specify_shape(output, shape)


def recurrent(*args, **kwargs):
    """Wraps an apply method to allow its iterative application.

    This decorator allows you to implement only one step of a recurrent
    network and enjoy applying it to sequences for free. The idea behind is
    that its most general form information flow of an RNN can be described
    as follows: depending on the context and driven by input sequences the
    RNN updates its states and produces output sequences.

    Given a method describing one step of an RNN and a specification
    which of its inputs are the elements of the input sequence,
    which are the states and which are the contexts, this decorator
    returns an application method which implements the whole RNN loop.
    The returned application method also has additional parameters,
    see documentation of the `recurrent_apply` inner function below.

    Parameters
    ----------
    sequences : list of strs
        Specifies which of the arguments are elements of input sequences.
    states : list of strs
        Specifies which of the arguments are the states.
    contexts : list of strs
        Specifies which of the arguments are the contexts.
    outputs : list of strs
        Names of the outputs. The outputs whose names match with those
        in the `state` parameter are interpreted as next step states.

    Returns
    -------
    recurrent_apply : :class:`~blocks.bricks.base.Application`
        The new application method that applies the RNN to sequences.

    See Also
    --------
    :doc:`The tutorial on RNNs </recurrent>`

    """
    def recurrent_wrapper(application_function):
        arg_names = _step_argument_names(application_function)

        def recurrent_apply(brick, application, application_call,
                            *args, **kwargs):
            """Iterates a transition function.

            Parameters
            ----------
            iterate : bool
                If ``True`` iteration is made. By default ``True``.
            reverse : bool
                If ``True``, the sequences are processed in backward
                direction. ``False`` by default.
            return_initial_states : bool
                If ``True``, initial states are included in the returned
                state tensors. ``False`` by default.
            scan_kwargs : dict
                Keyword arguments for :func:`pytensor.scan`; ``mode``
                defaults to blocks' default mode.

            """
            # Extract arguments related to iteration and immediately relay
            # the call to the wrapped function if `iterate=False`
            iterate = kwargs.pop('iterate', True)
            if not iterate:
                return application_function(brick, *args, **kwargs)
            reverse = kwargs.pop('reverse', False)
            scan_kwargs = kwargs.pop('scan_kwargs', {})
            return_initial_states = kwargs.pop('return_initial_states',
                                               False)

            # Push everything to kwargs
            for arg, arg_name in zip(args, arg_names):
                kwargs[arg_name] = arg

            # Make sure that all arguments for scan are tensor variables
            scan_arguments = (application.sequences + application.states +
                              application.contexts)
            for arg in scan_arguments:
                if arg in kwargs:
                    if kwargs[arg] is None:
                        del kwargs[arg]
                    else:
                        kwargs[arg] = tensor.as_tensor_variable(kwargs[arg])

            # Check which sequence and contexts were provided
            sequences_given = dict_subset(kwargs, application.sequences,
                                          must_have=False)
            contexts_given = dict_subset(kwargs, application.contexts,
                                         must_have=False)
            sequences_given = _check_sequences(brick, application,
                                               sequences_given)

            # Determine number of steps and batch size.
            if len(sequences_given):
                shape = list(sequences_given.values())[0].shape
                n_steps = shape[0]
                batch_size = shape[1]
            else:
                try:
                    n_steps = kwargs.pop('n_steps')
                    batch_size = kwargs.pop('batch_size')
                except KeyError as exc:
                    raise KeyError(
                        f"{_where(brick, application)}: no sequence given, "
                        f"so n_steps= and batch_size= are required "
                        f"(missing {exc.args[0]})") from exc

            # Handle the rest kwargs
            rest_kwargs = {key: value for key, value in kwargs.items()
                           if key not in scan_arguments}
            for value in rest_kwargs.values():
                if isinstance(value, Variable) and _has_graph_inputs(value):
                    logger.warning("unknown input %s%s", value,
                                   unknown_scan_input)

            # Ensure that all initial states are available.
            initial_states = brick.initial_states(batch_size, *args,
                                                  as_dict=True, **kwargs)
            for state_name in application.states:
                dim = brick.get_dim(state_name)
                if state_name in kwargs:
                    # Unreachable for tensors (converted above) but kept,
                    # like the reference, for callers that bypass that.
                    if isinstance(kwargs[state_name], NdarrayInitialization):
                        kwargs[state_name] = tensor.alloc(
                            kwargs[state_name].generate(brick.rng, (1, dim)),
                            batch_size, dim)
                    elif isinstance(kwargs[state_name], Application):
                        kwargs[state_name] = (
                            kwargs[state_name](state_name, batch_size,
                                               *args, **kwargs))
                    kwargs[state_name] = _check_state(
                        brick, application, state_name, kwargs[state_name])
                else:
                    try:
                        kwargs[state_name] = initial_states[state_name]
                    except KeyError as exc:
                        raise KeyError(
                            f"no initial state for '{state_name}' of the "
                            f"brick {brick.name}") from exc
            states_given = dict_subset(kwargs, application.states)

            for name, state in states_given.items():
                states_given[name] = _unbroadcast(state, batch_size)

            state_outputs = [output for output in application.outputs
                             if output in application.states]

            def scan_function(*args):
                args = list(args)
                arg_names = (list(sequences_given) + state_outputs +
                             list(contexts_given))
                kwargs = dict(zip(arg_names, args, strict=True))
                kwargs.update(rest_kwargs)
                outputs = pack(application(iterate=False, **kwargs))
                _check_step_outputs(brick, application, outputs,
                                    states_given)
                # We want to save the computation graph returned by the
                # `application_function` when it is called inside the
                # `pytensor.scan`.
                application_call.inner_inputs = args
                application_call.inner_outputs = outputs
                return [_match_state_type(output, states_given[name])
                        if name in states_given else output
                        for name, output in zip(application.outputs, outputs,
                                                strict=True)]

            outputs_info = [
                states_given[name] if name in application.states
                else None
                for name in application.outputs]
            scan_kwargs = dict(scan_kwargs)
            # Scan compiles its inner function with PyTensor's default
            # mode unless told otherwise, not with the caller's.
            if scan_kwargs.get('mode') is None:
                scan_kwargs['mode'] = step_mode()
            scan_kwargs.setdefault('return_list', True)
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    'ignore', 'Scan return signature will change',
                    DeprecationWarning)
                result, updates = pytensor.scan(
                    scan_function, sequences=list(sequences_given.values()),
                    outputs_info=outputs_info,
                    non_sequences=list(contexts_given.values()),
                    n_steps=n_steps,
                    go_backwards=reverse,
                    name=f'{brick.name}_{application.application_name}_scan',
                    return_updates=True,
                    **scan_kwargs)
            result, updates = _saving_intermediates(pack(result), updates)
            if return_initial_states:
                # A state output is `buffer[1:]`, the buffer holding the
                # initial state first: return the whole buffer.
                for i, name in enumerate(application.outputs):
                    if name in application.states:
                        result[i] = _full_buffer(result[i], brick,
                                                 application, name)
            if updates:
                application_call.updates = dict_union(application_call.updates,
                                                      updates)

            return result

        recurrent_apply.__name__ = application_function.__name__
        recurrent_apply.__qualname__ = application_function.__qualname__
        recurrent_apply.__doc__ = application_function.__doc__
        recurrent_apply.__module__ = application_function.__module__
        # No `__wrapped__`: the application reads the wrapper's signature,
        # (brick, application, application_call, *args, **kwargs).
        return recurrent_apply

    # Decorator can be used with or without arguments
    if not ((args and not kwargs) or (not args and kwargs)):
        raise ValueError(
            "use @recurrent bare or with keyword arguments only, e.g. "
            "@recurrent(sequences=['inputs'], states=['states'], "
            "outputs=['states'], contexts=[])")
    if args:
        application_function, = args
        return application(recurrent_wrapper(application_function))

    def wrap_application(application_function):
        return application(**kwargs)(
            recurrent_wrapper(application_function))
    return wrap_application


def _saving_intermediates(result, updates):
    """`result` and `updates` from a scan that keeps its intermediates.

    See :mod:`blocks.bricks.recurrent.saved`.
    """
    node = _scan_node(result[0])
    # No scan: PyTensor applies the step once when n_steps is a constant 1.
    replacements = save_intermediates(node) if node is not None else {}
    if not replacements:
        return result, updates
    keys = list(updates)
    new = graph_replace(result + [updates[key] for key in keys],
                        replacements, strict=False)
    return new[:len(result)], type(updates)(
        zip(keys, new[len(result):], strict=True))


def _scan_node(output):
    """The scan node of `output`, an output of :func:`pytensor.scan`.

    A state is ``buffer[1:]``, other outputs are the scan's own; None if
    `output` comes from no scan.
    """
    owner = output.owner
    if owner is not None and isinstance(owner.op, tensor.subtensor.Subtensor):
        owner = owner.inputs[0].owner
    if owner is not None and isinstance(owner.op, Scan):
        return owner
    return None


def _step_argument_names(function):
    """Names that positional arguments of the step function take."""
    kinds = inspect.Parameter
    params = list(inspect.signature(function).parameters.values())[1:]
    return [p.name for p in params
            if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]


def _full_buffer(output, brick, application, name):
    """The scan buffer that `output` (``buffer[1:]``) is a slice of."""
    owner = output.owner
    if owner is None or not isinstance(owner.op, tensor.subtensor.Subtensor):
        raise RuntimeError(
            f"{_where(brick, application)}: cannot return the initial "
            f"state of '{name}': its scan output is not a slice of the "
            f"state buffer")
    return owner.inputs[0]

