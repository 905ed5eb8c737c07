"""Extensions that save a checkpoint and load one back into a main loop.

See ``docs/checkpoints.rst`` for how to resume training, what is restored,
and why checkpoints are written atomically.
"""
import logging
import os
from typing import Any

from blocks.extensions.base import SimpleExtension
from blocks.extensions.protocol import LOADED_FROM, SAVED_TO
from blocks.serialization import load, load_parameters
from blocks.serialization.atomic import check_destination
from blocks.serialization.writer import CheckpointWriter
from blocks.serialization.core import warn_if_finished
from blocks.serialization.training_state import restore_algorithm_state
from blocks.utils.utils import reraise_as

logger = logging.getLogger(__name__)

#: Written when the main loop could not be pickled: the file that holds the
#: parameters and the log instead (the checkpoint itself was kept).
SAVED_WITHOUT_MAIN_LOOP_TO = "saved_without_main_loop_to"

#: Callbacks in which :class:`Checkpoint` checks that it can write its
#: paths, whatever its triggers: before anything is trained, and when a
#: pickled main loop resumes (possibly on another machine).
_DESTINATION_CHECKS = ('before_training', 'on_resumption')

parameter_names_message = """the parameters in {path!r} do not match the \
model's.
Missing from the file: {missing}
In the file but not in the model: {unexpected}
File ({n_file}): {file_names}
Model ({n_model}): {model_names}
Names are brick paths (Model.get_parameter_dict()): check that the bricks \
have the same names and nesting as when the checkpoint was written."""


def _flush(log: Any) -> None:
    # Persistent logs (SQLite) make their rows durable, so that the log on
    # disk covers at least what the checkpoint covers.
    flush = getattr(log, 'flush', None)
    if flush is not None:
        flush()


def _state(main_loop: Any) -> str:
    status = main_loop.log.status
    return (f"iteration {status['iterations_done']} (epoch "
            f"{status['epochs_done']})")


class Checkpoint(SimpleExtension):
    """Saves a pickled version of the main loop to the disk.

    The pickled main loop can be later reloaded and training can be
    resumed (``blocks-continue path``, or
    :func:`~blocks.serialization.continue_training`).

    Makes a ``SAVED_TO`` record in the log with the serialization
    destination in the case of success and ``None`` in the case of failure.
    The value of the record is a tuple of paths to which saving was done
    (there can be more than one if the user added a condition with an
    argument, see :meth:`do` docs).

    The file is written atomically: a temporary file in the same
    directory, fsynced, then renamed over ``path``. A process killed while
    saving leaves the previous checkpoint intact. The writing itself is
    done by a :class:`~blocks.serialization.writer.CheckpointWriter`.

    Parameters
    ----------
    path : str
        The destination path for pickling (``None`` if every condition
        gives its own path as an argument). A relative path is relative to
        the working directory when the extension is created, also when
        training is resumed from another directory.
    parameters : list, optional
        The parameters to save separately. If None, the parameters from
        the model (main_loop.model.parameters) are saved.
    save_separately : list of str, optional
        The list of the main loop's attributes to be saved (copied) in a
        separate file in the tar archive. It may be used for example to
        save the log separately. The name of the attribute will be used as
        name in the tar file.
    save_main_loop : bool
        Choose whether to save the main loop or not. This can be useful for
        example if you are only interested in saving the parameters, but
        not the whole main loop. Defaults to `True`.
    use_cpickle : bool
        See documentation of :func:`~blocks.serialization.dump`.

    Notes
    -----
    Using pickling for saving the whole main loop object comes with
    certain limitations: everything the main loop refers to must be
    picklable (no lambdas, no open files). When it is not, the file at
    ``path`` is left as it was (the last resumable checkpoint), the
    parameters and the log are saved beside it, in
    ``<name>.parameters-and-log.tar``, and the error names the object that
    failed by its attribute path from the main loop, e.g.
    ``main_loop.extensions[3].function``.

    Whatever its triggers, the extension checks in ``before_training`` and
    ``on_resumption`` that it can write its paths, so that a missing or
    read-only directory is reported before any training is done rather
    than at the first save (by default ``after_training``).

    Examples
    --------
    Save every 100 batches and at the end, and copy the checkpoint to
    ``best.tar`` when a validation cost is the best so far:

    >>> from blocks.extensions.predicates import OnLogRecord
    >>> checkpoint = Checkpoint('model.tar', every_n_batches=100)
    >>> checkpoint = checkpoint.add_condition(
    ...     ['after_epoch'], OnLogRecord('valid_cost_best_so_far'),
    ...     ('best.tar',))
    """

    def __init__(self, path: str | None, parameters: Any = None,
                 save_separately: list[str] | None = None,
                 save_main_loop: bool = True, use_cpickle: bool = False,
                 **kwargs: Any) -> None:
        if save_separately is not None and (
                isinstance(save_separately, str)
                or not all(isinstance(attribute, str)
                           for attribute in save_separately)):
            raise TypeError(
                f"save_separately must be a list of attribute names of the "
                f"main loop (such as ['log']), got {save_separately!r}")
        kwargs.setdefault("after_training", True)
        super().__init__(**kwargs)
        self.path = path
        self.parameters = parameters
        self.save_separately = save_separately
        self.save_main_loop = save_main_loop
        self.use_cpickle = use_cpickle
        #: Relative paths are resolved against this directory.
        self.run_directory = os.getcwd()
        self.writer = CheckpointWriter(use_cpickle)
        # Identifies the dispatch under way: several conditions can hold
        # in one (the regular save and the copy of the best model), and
        # the writer then copies the file written first.
        self._dispatch_token: object = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Checkpoints pickled before these attributes existed.
        state.setdefault('run_directory', None)
        state.setdefault('writer', CheckpointWriter(
            state.get('use_cpickle', False)))
        state.setdefault('_dispatch_token', None)
        parent = getattr(super(), '__setstate__', None)
        if parent is not None:
            parent(state)
        else:
            self.__dict__.update(state)

    def resolve(self, path: str | os.PathLike[str]) -> str:
        """``path`` as written: relative to :attr:`run_directory`."""
        return os.path.join(self.run_directory or os.getcwd(),
                            os.fspath(path))

    def relocate(self, directory: str) -> None:
        """Write every checkpoint in ``directory``, under its own name.

        ``blocks-continue --here`` uses it to resume a copied checkpoint
        without writing over the files of the run it was copied from.
        """
        self.run_directory = os.path.abspath(directory)
        if isinstance(self.path, (str, os.PathLike)):
            self.path = os.path.basename(os.fspath(self.path))
        conditions = []
        for condition in self._conditions:
            *rest, arguments = condition
            if arguments and isinstance(arguments[0], (str, os.PathLike)):
                arguments = (os.path.basename(os.fspath(arguments[0])),
                             *arguments[1:])
            conditions.append((*rest, arguments))
        self._conditions[:] = conditions

    def responds_to(self, callback_name: str) -> bool:
        return (callback_name in _DESTINATION_CHECKS
                or self._has_condition_for(callback_name))

    def dispatch(self, callback_invoked: Any, *from_main_loop: Any) -> None:
        """Check the paths where needed, then run :meth:`do` as usual."""
        if str(callback_invoked) in _DESTINATION_CHECKS:
            self.check_destinations()
        self._dispatch_token = object()
        try:
            super().dispatch(callback_invoked, *from_main_loop)
        finally:
            self._dispatch_token = None

    def destinations(self) -> list[str]:
        """The paths this extension saves to, resolved.

        ``path`` and the paths given as condition arguments.
        """
        paths = [self.path]
        for _, _, arguments in self._conditions:
            if arguments:
                paths.append(arguments[0])
        return list(dict.fromkeys(
            self.resolve(path) for path in paths
            if isinstance(path, (str, os.PathLike))))

    def check_destinations(self) -> None:
        """Raise if a path this extension saves to can not be written."""
        for path in self.destinations():
            check_destination(path)

    def do(self, callback_name: Any, *args: Any) -> None:
        """Pickle the main loop object to the disk.

        If `*args` contain an argument from user, it is treated as
        saving path to be used instead of the one given at the
        construction stage. A path given this way in the same dispatch as
        a successful save (e.g. the best model, saved when it is also time
        for a regular checkpoint) is made by copying the file just written.
        """
        logger.info("Checkpointing has started")
        _, from_user = self.parse_args(callback_name, args)
        main_loop = self.main_loop
        path: str | None = None
        try:
            given = self.path
            if from_user:
                given, = from_user
            path = None if given is None else self.resolve(given)
            _flush(main_loop.log)
            self._save(path)
        except Exception as error:
            path = None
            fallback = getattr(error, 'fallback_path', None)
            if fallback is not None:
                main_loop.log.current_row[SAVED_WITHOUT_MAIN_LOOP_TO] = (
                    fallback)
            raise
        finally:
            already_saved_to = main_loop.log.current_row.get(SAVED_TO, ())
            main_loop.log.current_row[SAVED_TO] = (already_saved_to +
                                                   (path,))
            _flush(main_loop.log)
            logger.info("Checkpointing has finished")

    def _save(self, path: Any) -> None:
        main_loop = self.main_loop
        to_add = None
        if self.save_separately:
            to_add = {attr: getattr(main_loop, attr) for attr in
                      self.save_separately}
        if self.parameters is None:
            if hasattr(main_loop, 'model'):
                self.parameters = main_loop.model.parameters
        self.writer.write(
            path, main_loop if self.save_main_loop else None,
            self.parameters, to_add, _state(main_loop),
            token=self._dispatch_token)


class Load(SimpleExtension):
    """Loads a saved checkpoint into the main loop.

    Makes a ``LOADED_FROM`` record in the log with the dump path.

    What is restored (see ``docs/checkpoints.rst``):

    * always: the model's parameters, matched by brick path; names or
      shapes that do not match raise an error listing both sides;
    * ``load_log``: the log (records and status, so the counters of
      iterations and epochs);
    * ``load_iteration_state``: the data stream and its epoch iterator (the
      position in the epoch, the shuffling random state), and the training
      algorithm's state: every shared variable its updates read or write
      (step-rule buffers such as Adam's moments and time step,
      hyperparameters, monitoring accumulators, random generators of
      dropout and noise), matched by position with the re-built graph and
      set just before training continues, once every extension has run
      ``before_training``.

    Parameters
    ----------
    path : str
        The path to the checkpoint file.
    load_iteration_state : bool
        If `True`, load the iteration state and the algorithm's state.
        This can be useful when your model has very long epochs, and you
        want to resume when you were in the middle of one. Defaults to
        `False`.
    load_log : bool
        If `True`, load the old log and continue logging from there.
        Convenient because you end up with a single log of the entire
        training history. Defaults to `False`.

    Notes
    -----
    Requires the model to be created entirely using bricks, with a unique
    path/name for each brick, so that the parameters can be matched to
    their values.

    In order to load the iteration state and the log, the saved main loop
    is unpickled: only load checkpoints you trust. Extensions are not
    reloaded: those of the running script are used, so extensions that
    keep state in attributes start afresh.

    Examples
    --------
    Run the same script again to continue where it stopped (at the first
    run, when there is no checkpoint yet, only a warning is logged):

    >>> extensions = [Load('model.tar', load_iteration_state=True,
    ...                    load_log=True),
    ...               Checkpoint('model.tar', every_n_batches=100)]
    """

    def __init__(self, path: str | os.PathLike[str],
                 load_iteration_state: bool = False, load_log: bool = False,
                 **kwargs: Any) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or a path-like object, got "
                            f"{path!r}")
        kwargs.setdefault("before_training", True)
        super().__init__(**kwargs)
        self.path = path
        self.load_iteration_state = load_iteration_state
        self.load_log = load_log
        #: A relative ``path`` is relative to this directory.
        self.run_directory = os.getcwd()
        self._saved_algorithm: Any = None

    @property
    def resolved_path(self) -> str:
        """The checkpoint's path, relative ones resolved."""
        return os.path.join(getattr(self, 'run_directory', None)
                            or os.getcwd(), os.fspath(self.path))

    def load_to(self, main_loop: Any) -> None:
        """Load the checkpoint's state into ``main_loop``.

        The algorithm's state, when loaded, is set at the next callback
        (see :meth:`dispatch`).
        """
        with open(self.resolved_path, "rb") as source:
            parameters = load_parameters(source)
            self._check_parameters(main_loop.model, parameters)
            main_loop.model.set_parameter_values(parameters)
            if self.load_iteration_state or self.load_log:
                loaded_main_loop = load(source)
                warn_if_finished(loaded_main_loop, self.path)
                if self.load_log:
                    main_loop.log = loaded_main_loop.log
                if self.load_iteration_state:
                    main_loop.iteration_state = (
                        loaded_main_loop.iteration_state)
                    self._saved_algorithm = loaded_main_loop.algorithm
                    # Be dispatched every callback until it is restored.
                    self.conditions_changed()

    def _check_parameters(self, model: Any,
                          parameters: dict[str, Any]) -> None:
        expected = model.get_parameter_dict()
        missing = sorted(name for name in expected if name not in parameters)
        unexpected = sorted(name for name in parameters
                            if name not in expected)
        if missing or unexpected:
            raise ValueError(parameter_names_message.format(
                path=os.fspath(self.path), missing=missing or 'none',
                unexpected=unexpected or 'none', n_file=len(parameters),
                file_names=sorted(parameters), n_model=len(expected),
                model_names=sorted(expected)))
        for name, parameter in expected.items():
            saved_shape = parameters[name].shape
            shape = parameter.get_value(borrow=True).shape
            if saved_shape != shape:
                raise ValueError(
                    f"Shape mismatch for parameter {name!r}: the model has "
                    f"shape {shape}, {os.fspath(self.path)!r} has "
                    f"{saved_shape}")

    def responds_to(self, callback_name: str) -> bool:
        return (self._saved_algorithm is not None
                or self._has_condition_for(callback_name))

    def dispatch(self, callback_invoked: Any, *from_main_loop: Any) -> None:
        """Run :meth:`do` as usual, then set the algorithm's state.

        The algorithm's state is set at the first callback after
        ``before_training`` (``on_resumption``, ``before_epoch`` or
        ``before_batch``): by then every extension has added its updates
        to the algorithm and initialized its own buffers.
        """
        super().dispatch(callback_invoked, *from_main_loop)
        if (self._saved_algorithm is not None
                and str(callback_invoked) != 'before_training'):
            self._restore_algorithm_state()

    def _restore_algorithm_state(self) -> None:
        saved_algorithm, self._saved_algorithm = self._saved_algorithm, None
        self.conditions_changed()
        main_loop = self.main_loop
        # The parameters were loaded by name already.
        skip = ()
        if hasattr(main_loop, 'model'):
            skip = main_loop.model.parameters
        try:
            restored = restore_algorithm_state(
                main_loop.algorithm, saved_algorithm,
                path=os.fspath(self.path), skip=skip)
        except Exception:
            reraise_as("Failed to load the state")
        logger.info("Restored %d shared variables of the training algorithm "
                    "from %s", restored, self.path)

    def do(self, *args: Any, **kwargs: Any) -> None:
        if not os.path.exists(self.resolved_path):
            logger.warning("No dump found")
            return
        logger.info("loading model from %s", self.resolved_path)
        try:
            self.load_to(self.main_loop)
            self.main_loop.log.current_row[LOADED_FROM] = self.path
        except Exception:
            reraise_as("Failed to load the state")
