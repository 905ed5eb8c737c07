"""Gradient descent with gradients averaged across the ranks.

The training step of :class:`~blocks.algorithms.GradientDescent` is one
compiled function: gradients, then the step rule, then the updates. Here
it is compiled as two functions with one ``Allreduce`` between them:

1. the *gradient function* takes the rank's batch and returns its gradients
   in one flat vector (and applies the updates that need only the data,
   such as training monitoring accumulators);
2. the buffer ``[n * gradients, n]`` (``n`` examples on this rank) is summed
   over the ranks in place, and divided by the total number of examples;
3. the *step function* takes the averaged vector, in place of the
   gradients, and applies the step rule and every other update.

Every rank thus runs the step rule on the same averaged gradients, so the
parameters and the step rule's state (Adam's moments) stay identical; this
is checked, not assumed (:meth:`DistributedGradientDescent.check_replicas`).
"""
import logging
import math
import zlib

import numpy
from pytensor import tensor
from pytensor.graph.replace import clone_replace
from pytensor.graph.traversal import ancestors

from blocks.algorithms.gradient_descent import GradientDescent
from blocks.compilation import function
from blocks.distributed.communicator import mpi, world

logger = logging.getLogger(__name__)

__all__ = ['DistributedGradientDescent']

MIXED_DTYPES = (
    "DistributedGradientDescent averages all the gradients in one buffer, "
    "so they must share a dtype, got {dtypes}. Make the parameters one "
    "dtype (e.g. all floatX).")

REPLICAS_DIFFER = (
    "rank {rank}: the training state is no longer identical on all ranks: "
    "{names} differ. The ranks must start from the same parameters "
    "(initialize the bricks with the same seed on every rank) and apply "
    "the same updates; an update that depends on this rank's data and "
    "writes a model parameter (not a monitoring accumulator) breaks this.")

NO_EXAMPLES = (
    "no rank had any example in this batch: the data stream yielded empty "
    "batches on every rank")


def _checksum(value: numpy.ndarray) -> int:
    return zlib.crc32(numpy.ascontiguousarray(value).view(numpy.uint8))


class DistributedGradientDescent(GradientDescent):
    """:class:`~blocks.algorithms.GradientDescent` on several MPI ranks.

    Takes the arguments of :class:`~blocks.algorithms.GradientDescent`,
    plus the keyword-only ones below. On one rank (a run without
    ``mpirun``) it *is* a :class:`~blocks.algorithms.GradientDescent`: the
    same single compiled function, no communication.

    Parameters
    ----------
    comm : communicator, optional
        The ranks to average over. Defaults to
        :func:`~blocks.distributed.world` (looked up when needed, never
        pickled).
    check_every : int
        Check that parameters and step-rule state are bit-identical on
        all ranks after the first batch and every `check_every` batches
        (a CRC of each, one ``allgather``). Defaults to 100.
    example_axis : int
        The axis of the inputs that runs over examples (1 for time-major
        sequences), used to weight each rank's gradients by its number of
        examples. Defaults to 0.

    Notes
    -----
    Gradients are averaged weighted by the number of examples of each
    rank, so for a cost that is a mean over the examples a step on ``N``
    ranks equals a step on one rank with the union of their batches (to
    float rounding).

    Examples
    --------
    >>> import numpy
    >>> from pytensor import tensor
    >>> from blocks.algorithms import Scale
    >>> from blocks.utils import shared_floatx
    >>> w = shared_floatx(numpy.zeros(2), name='w')
    >>> x = tensor.matrix('x')
    >>> algorithm = DistributedGradientDescent(
    ...     cost=((w - x) ** 2).sum(axis=1).mean(), parameters=[w],
    ...     step_rule=Scale(0.25))
    >>> algorithm.initialize()
    >>> algorithm.process_batch({'x': numpy.ones((3, 2))})
    >>> w.get_value()
    array([0.5, 0.5])

    """

    def __init__(self, *args, comm=None, check_every: int = 100,
                 example_axis: int = 0, **kwargs):
        if (isinstance(check_every, bool) or not isinstance(check_every, int)
                or check_every < 1):
            raise ValueError(f"check_every must be a positive integer, got "
                             f"{check_every!r}")
        super().__init__(*args, **kwargs)
        self._comm = comm
        self.check_every = check_every
        self.example_axis = example_axis

    @property
    def comm(self):
        """The communicator of the ranks."""
        return self._comm if self._comm is not None else world()

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_comm'] = None
        state.pop('_buffer', None)
        return state

    def initialize(self) -> None:
        """Compile the training step: one function, or two on N ranks."""
        if self.comm.size == 1:
            super().initialize()
            return
        self.inputs = self._infer_inputs()
        self._input_names = [variable.name for variable in self.inputs]
        self._accepted_sources = frozenset(self._input_names)
        self._compile_split_step()
        self._steps_done = 0
        self.check_replicas()

    def _compile_split_step(self):
        gradients = [self.gradients[parameter]
                     for parameter in self.parameters]
        dtypes = sorted({gradient.dtype for gradient in gradients})
        if len(dtypes) != 1:
            raise TypeError(MIXED_DTYPES.format(dtypes=dtypes))
        shapes = [parameter.get_value(borrow=True).shape
                  for parameter in self.parameters]
        sizes = [math.prod(shape) for shape in shapes]
        averaged = tensor.vector('averaged_gradients', dtype=dtypes[0])
        replacements = {}
        offset = 0
        for gradient, shape, size in zip(gradients, shapes, sizes,
                                         strict=True):
            piece = averaged[offset:offset + size].reshape(shape)
            replacements[gradient] = tensor.specify_shape(piece, shape)
            offset += size

        data_updates, step_updates = [], []
        values = [value for _, value in self.updates]
        replaced = clone_replace(values, replace=replacements)
        gradient_set = set(gradients)
        input_set = set(self.inputs)
        for (variable, value), new_value in zip(self.updates, replaced,
                                                strict=True):
            graph = set(ancestors([value]))
            if graph & input_set and not graph & gradient_set:
                data_updates.append((variable, value))
            else:
                step_updates.append((variable, new_value))
        logger.debug("%d updates need only the data, %d the averaged "
                     "gradients", len(data_updates), len(step_updates))
        kwargs = dict(self.theano_func_kwargs)
        kwargs.setdefault('on_unused_input', 'ignore')
        flat = tensor.concatenate([gradient.ravel()
                                   for gradient in gradients])
        self._gradient_function = function(
            self.inputs, flat, updates=data_updates, **kwargs)
        self._step_function = function(
            [averaged] + self.inputs, [], updates=step_updates, **kwargs)
        self._buffer = numpy.empty(sum(sizes) + 1, dtype=dtypes[0])

    def process_batch(self, batch: dict) -> None:
        """A training step on this rank's batch, with averaged gradients."""
        comm = self.comm
        if comm.size == 1:
            super().process_batch(batch)
            return
        values = self._batch_values(batch)
        buffer = self.__dict__.get('_buffer')
        if buffer is None:  # unpickled: the buffer is not saved
            buffer = self._buffer = numpy.empty(self._buffer_size(),
                                                dtype=self._dtype())
        examples = numpy.shape(values[0])[self.example_axis]
        if examples:
            gradients = self._call_checked(self._gradient_function, values)
            numpy.multiply(gradients, examples, out=buffer[:-1])
        else:
            buffer[:-1] = 0
        buffer[-1] = examples
        comm.Allreduce(mpi().IN_PLACE, buffer, op=mpi().SUM)
        if buffer[-1] == 0:
            raise ValueError(NO_EXAMPLES)
        averaged = buffer[:-1]
        averaged /= buffer[-1]
        self._step_function(averaged, *values)
        self._steps_done += 1
        if self._steps_done % self.check_every == 1 or self.check_every == 1:
            self.check_replicas()

    def _buffer_size(self):
        return sum(parameter.get_value(borrow=True).size
                   for parameter in self.parameters) + 1

    def _dtype(self):
        return self.gradients[self.parameters[0]].dtype

    def check_replicas(self) -> None:
        """Check that parameters and algorithm state match on all ranks.

        A collective call: every rank must make it.

        Raises
        ------
        RuntimeError
            Naming the variables whose values differ between ranks.

        """
        comm = self.comm
        if comm.size == 1:
            return
        variables = list(self.parameters) + [
            variable for variable in self.state_variables
            if variable not in set(self.parameters)]
        checksums = [_checksum(variable.get_value(borrow=True))
                     for variable in variables]
        everyone = comm.allgather(checksums)
        differing = [str(variable) for index, variable in enumerate(variables)
                     if len({rank[index] for rank in everyone}) != 1]
        if differing:
            raise RuntimeError(REPLICAS_DIFFER.format(
                rank=comm.rank, names=', '.join(differing)))
