"""Monitoring that aggregates over the ranks.

The monitoring extensions accumulate a value over batches in shared
variables (an aggregation scheme's accumulators) and read it out from them.
On several ranks each rank accumulates over its own shards; just before a
readout, the accumulators are combined across the ranks so that the value
read out is the single-process one:

- :class:`~blocks.monitoring.aggregation.Mean` (the default for data
  dependent variables) and its subclasses: numerator and denominator are
  summed over the ranks;
- :class:`~blocks.monitoring.aggregation.Minimum` and ``Maximum``: the
  minimum and maximum over the ranks;
- ``TakeLast`` and data-independent variables: each rank keeps its own
  (identical for values that do not depend on the data).

A stream that is not sharded is evaluated whole by every rank; summing
identical accumulators leaves a mean unchanged, so it is exact too.
"""
import numpy

from blocks.distributed.communicator import mpi, world
from blocks.graph import ComputationGraph
from blocks.monitoring.aggregation import (Concatenate, Maximum, Mean,
                                           Minimum)
from blocks.monitoring.evaluators import AggregationBuffer

__all__ = ['AllreducedAggregationBuffer', 'aggregate_across_ranks']

CAN_NOT_COMBINE = (
    "{what} can not be combined across ranks: {reason}. Monitor it with a "
    "DataStreamMonitoring on a stream that is not sharded (every rank then "
    "evaluates the whole stream), or monitor a mean instead.")


class AllreducedAggregationBuffer(AggregationBuffer):
    """An :class:`~blocks.monitoring.evaluators.AggregationBuffer` whose
    readouts combine the accumulators of all the ranks first.

    Readouts are collective calls: every rank must make them (monitoring
    extensions run on every rank, at the same iterations).
    """

    def _readout_and_reset(self):
        self.allreduce()
        return super()._readout_and_reset()

    def get_aggregated_values(self):
        self.allreduce()
        return super().get_aggregated_values()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop('_reductions', None)
        return state

    def allreduce(self) -> None:
        """Combine the accumulators of all ranks, in place, on every rank."""
        comm = world()
        if comm.size == 1:
            return
        for op_name, variables in self._reductions_plan().items():
            values = [numpy.asarray(variable.get_value(borrow=True))
                      for variable in variables]
            buffer = numpy.concatenate(
                [value.ravel().astype(numpy.float64) for value in values])
            comm.Allreduce(mpi().IN_PLACE, buffer, op=getattr(mpi(), op_name))
            offset = 0
            for variable, value in zip(variables, values, strict=True):
                size = value.size
                variable.set_value(buffer[offset:offset + size]
                                   .reshape(value.shape).astype(value.dtype))
                offset += size

    def gather_on_rank0(self) -> None:
        """Leave the combined partial aggregates on rank 0 only.

        Rank 0's accumulators then stand for all the ranks (what a
        checkpoint, written by rank 0, must save); the sums of the other
        ranks restart from zero. A collective call.
        """
        if world().size == 1:
            return
        self.allreduce()
        self.drop_sums_unless_rank0()

    def drop_sums_unless_rank0(self) -> None:
        """Zero the summed accumulators on ranks other than 0.

        After resuming from a checkpoint, every rank holds rank 0's
        accumulators, which already stand for all the ranks.
        """
        if world().rank == 0:
            return
        for variable in self._reductions_plan().get('SUM', []):
            value = variable.get_value(borrow=True)
            variable.set_value(numpy.zeros_like(value))

    def _reductions_plan(self):
        reductions = self.__dict__.get('_reductions')
        if reductions is None:
            reductions = self._reductions = self._plan()
        return reductions

    def _plan(self):
        """MPI operation name -> the accumulators it combines."""
        reductions = {'SUM': [], 'MIN': [], 'MAX': []}
        for variable in self.variables:
            scheme = variable.tag.aggregation_scheme
            if isinstance(scheme, Concatenate):
                raise ValueError(CAN_NOT_COMBINE.format(
                    what=f"the concatenation of {variable.name!r}",
                    reason="each rank holds the values of its own batches"))
            if isinstance(scheme, Mean):
                op_name = 'SUM'
            elif isinstance(scheme, Maximum):
                op_name = 'MAX'
            elif isinstance(scheme, Minimum):
                op_name = 'MIN'
            else:
                continue
            readout = self.readout_variables[variable.name]
            reductions[op_name] += ComputationGraph([readout]).shared_variables
        return {op_name: variables
                for op_name, variables in reductions.items() if variables}


def _stream_is_sharded(stream) -> bool:
    from blocks.distributed.schemes import ShardedScheme
    while stream is not None:
        if isinstance(getattr(stream, 'iteration_scheme', None),
                      ShardedScheme):
            return True
        stream = getattr(stream, 'data_stream', None)
    return False


def aggregate_across_ranks(extension) -> None:
    """Make a monitoring extension combine its values across the ranks.

    Parameters
    ----------
    extension : DataStreamMonitoring or TrainingDataMonitoring
        The monitoring extension, changed in place (its aggregation
        buffer).

    Returns
    -------
    :class:`AllreducedAggregationBuffer`
        The extension's buffer of graph variables.

    Raises
    ------
    ValueError
        For values that can not be combined: Python-side
        :class:`~blocks.monitoring.aggregation.MonitoredQuantity` objects
        over sharded data.

    """
    from blocks.extensions.monitoring import (DataStreamMonitoring,
                                              TrainingDataMonitoring)
    if isinstance(extension, TrainingDataMonitoring):
        buffer = extension._variables
        quantities = extension._non_variables.quantities
        sharded = True
    elif isinstance(extension, DataStreamMonitoring):
        buffer = extension._evaluator.theano_buffer
        quantities = extension._evaluator.monitored_quantities
        sharded = _stream_is_sharded(extension.data_stream)
    else:
        raise TypeError(f"not a monitoring extension: {extension!r}")
    if quantities and sharded:
        raise ValueError(CAN_NOT_COMBINE.format(
            what=f"the monitored quantities of {extension.name!r} "
                 f"({', '.join(str(q.name) for q in quantities)})",
            reason="they aggregate in Python, on each rank's own batches"))
    if type(buffer) is AggregationBuffer:
        buffer.__class__ = AllreducedAggregationBuffer
    return buffer
