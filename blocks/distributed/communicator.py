"""The communicator of the ranks, and a stand-in for a single process.

mpi4py is imported only when the process was started by an MPI launcher
(``mpirun``, ``mpiexec``, ``srun``): importing it initializes MPI, which a
single-process run should not pay for, nor need MPI installed for.
"""
import os
from functools import cache

#: Variables that MPI launchers set in the environment of every rank.
LAUNCHER_VARIABLES = ('OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE',
                      'PMI_RANK', 'MPI_LOCALNRANKS')

NO_MPI4PY = (
    "this process was started by an MPI launcher ({variable} is set), but "
    "mpi4py can not be imported ({error}). Install the `mpi` extra "
    "(`pip install 'blocks[mpi]'`), or run the script without mpirun to "
    "train in one process.")


class SingleProcess:
    """The communicator of a run without MPI: one rank, no communication.

    Only the attributes the rest of :mod:`blocks.distributed` reads, under
    mpi4py's names.
    """

    rank = 0
    size = 1

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 1

    def __repr__(self):
        return 'SingleProcess()'


def launched_by_mpi() -> bool:
    """Whether an MPI launcher started this process."""
    return any(variable in os.environ for variable in LAUNCHER_VARIABLES)


@cache
def world():
    """The communicator of all the ranks of this job.

    Returns
    -------
    :class:`mpi4py.MPI.Intracomm` or :class:`SingleProcess`
        ``MPI.COMM_WORLD`` when the process was started by an MPI launcher,
        else a :class:`SingleProcess` (rank 0 of 1), without importing
        mpi4py.

    Examples
    --------
    >>> comm = world()  # doctest: +SKIP
    >>> comm.rank, comm.size  # doctest: +SKIP
    (0, 1)

    """
    if not launched_by_mpi():
        return SingleProcess()
    try:
        from mpi4py import MPI
    except ImportError as error:
        variable = next(variable for variable in LAUNCHER_VARIABLES
                        if variable in os.environ)
        raise ImportError(NO_MPI4PY.format(variable=variable,
                                           error=error)) from error
    return MPI.COMM_WORLD


def mpi():
    """The ``mpi4py.MPI`` module (only imported once a job needs it)."""
    from mpi4py import MPI
    return MPI
