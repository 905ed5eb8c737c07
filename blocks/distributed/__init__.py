"""Data-parallel training on several processes and machines, over MPI.

Run the same script on every rank (``mpirun -n 4 python train.py``) with
three changes: :class:`DistributedGradientDescent` for
:class:`~blocks.algorithms.GradientDescent`, a :class:`ShardedScheme`
around the training stream's scheme, and :class:`DistributedMainLoop` for
:class:`~blocks.main_loop.MainLoop`. Without ``mpirun`` the script runs in
one process exactly as before, without importing mpi4py. See
``docs/distributed.rst``.
"""
from blocks.distributed.algorithm import DistributedGradientDescent
from blocks.distributed.communicator import (LAUNCHER_VARIABLES,
                                             SingleProcess, launched_by_mpi,
                                             world)
from blocks.distributed.launch import find_mpirun, mpirun_command
from blocks.distributed.main_loop import (ROOT_ONLY, AgreeOnStop,
                                          DistributedMainLoop)
from blocks.distributed.monitoring import aggregate_across_ranks
from blocks.distributed.schemes import ShardedScheme, shard_bounds

__all__ = ['LAUNCHER_VARIABLES', 'ROOT_ONLY', 'AgreeOnStop',
           'DistributedGradientDescent', 'DistributedMainLoop',
           'ShardedScheme', 'SingleProcess', 'aggregate_across_ranks',
           'find_mpirun', 'launched_by_mpi', 'mpirun_command',
           'shard_bounds', 'world']
