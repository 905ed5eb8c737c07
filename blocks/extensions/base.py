"""The extension protocol: callbacks, triggers and predicates."""
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

CALLBACK_NAMES = ('on_resumption', 'on_error', 'before_training',
                  'before_epoch', 'before_batch', 'after_batch',
                  'after_epoch', 'after_training', 'on_interrupt')
_CALLBACK_NAME_SET = frozenset(CALLBACK_NAMES)


def callback(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a method as a training callback."""
    func._is_callback = True  # type: ignore[attr-defined]
    return func


class CallbackName(str):
    """A name of a :class:`TrainingExtension` callback.

    Comparing it with a string that is not the name of a callback raises
    :class:`TypeError`, which catches typos in trigger names.

    >>> CallbackName('after_epoch') == 'after_epoch'
    True
    """

    def __eq__(self, other: object) -> bool:
        if other not in _CALLBACK_NAME_SET:
            raise TypeError(
                f"{other!r} is not the name of a training extension "
                f"callback; the callbacks are {', '.join(CALLBACK_NAMES)}")
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class TrainingExtension:
    """The base class for training extensions.

    An extension is a set of callbacks sharing a joint context that are
    invoked at certain stages of the training procedure.

    Parameters
    ----------
    name : str, optional
        The name of the extension, used to tell apart several extensions of
        the same type. Defaults to the name of the class.

    Attributes
    ----------
    main_loop : :class:`~blocks.main_loop.MainLoop`
        The main loop to which the extension belongs.
    name : str
        The name of the extension.
    """

    def __init__(self, name: str | None = None):
        if not name:
            name = self.__class__.__name__
        self.name = name

    @property
    def main_loop(self) -> Any:
        if not hasattr(self, '_main_loop'):
            raise ValueError("main loop must be assigned to extension first")
        return self._main_loop

    @main_loop.setter
    def main_loop(self, value: Any) -> None:
        self._main_loop = value

    def dispatch(self, callback_name: str, *args: Any) -> None:
        """Run the callback with the given name."""
        getattr(self, callback_name)(*args)

    def responds_to(self, callback_name: str) -> bool:
        """Whether dispatching ``callback_name`` can do anything.

        The main loop skips extensions that do not respond to a callback.
        An extension responds to the callbacks it overrides, in its class
        or on the instance (``extension.after_batch = function``); one
        that overrides :meth:`dispatch` responds to everything.
        """
        dispatch = getattr(self.dispatch, '__func__', None)
        if dispatch is not TrainingExtension.dispatch:
            return True
        function = getattr(getattr(self, callback_name), '__func__', None)
        return function is not getattr(TrainingExtension, callback_name)

    def conditions_changed(self) -> None:
        """Tell the main loop that this extension's callbacks changed.

        The main loop keeps, per callback, the extensions that respond to
        it. Call this after changing what this extension responds to
        other than through :meth:`SimpleExtension.add_condition` or
        :meth:`SimpleExtension.set_conditions` (which call it), e.g. after
        replacing a callback on the instance during training.
        """
        main_loop = self.__dict__.get('_main_loop')
        dispatcher = getattr(main_loop, 'dispatcher', None)
        if dispatcher is not None:
            dispatcher.invalidate()

    @callback
    def on_resumption(self) -> None:
        """The callback invoked after training is resumed."""

    @callback
    def on_error(self, exception: BaseException) -> None:
        """The callback invoked when an error occurs.

        Parameters
        ----------
        exception : object
            Exception occurred during the main loop run.
        """

    @callback
    def before_training(self) -> None:
        """The callback invoked before training is started."""

    @callback
    def before_epoch(self) -> None:
        """The callback invoked before starting an epoch."""

    @callback
    def before_batch(self, batch: Any) -> None:
        """The callback invoked before a batch is processed.

        Parameters
        ----------
        batch : object
            The data batch to be processed.
        """

    @callback
    def after_batch(self, batch: Any) -> None:
        """The callback invoked after a batch is processed.

        Parameters
        ----------
        batch : object
            The data batch just processed.
        """

    @callback
    def after_epoch(self) -> None:
        """The callback invoked after an epoch is finished."""

    @callback
    def after_training(self) -> None:
        """The callback invoked after training is finished."""

    @callback
    def on_interrupt(self) -> None:
        """The callback invoked when training is interrupted."""


class Predicate:
    """A trigger condition on the number of epochs or batches done.

    Parameters
    ----------
    condition : str
        One of the integer triggers of :class:`SimpleExtension`, e.g.
        ``'every_n_batches'``.
    num : int
        The number of epochs or batches.
    """

    def __init__(self, condition: str, num: int):
        self.condition = condition
        self.num = num
        self._counter = ('epochs_done' if condition.endswith('epochs')
                         else 'iterations_done')
        self._every = condition.startswith('every')

    def __call__(self, log: Any) -> bool:
        entry = log.status[self._counter]
        if self._every:
            return entry % self.num == 0
        return entry == self.num

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if '_counter' not in state:
            Predicate.__init__(self, state['condition'], state['num'])


def has_done_epochs(log: Any) -> bool:
    """True before the first epoch has ended."""
    return log.status['epochs_done'] == 0


def always_true(log: Any) -> bool:
    return True


class SimpleExtension(TrainingExtension, metaclass=ABCMeta):
    """A base class for simple extensions.

    All logic of simple extensions is concentrated in :meth:`do`, which is
    called when one of the extension's conditions holds. Conditions are
    given as trigger keywords to the constructor and with
    :meth:`add_condition`.

    Parameters
    ----------
    before_training : bool
        If ``True``, :meth:`do` is invoked before training.
    before_first_epoch : bool
        If ``True``, :meth:`do` is invoked before the first epoch.
    before_epoch : bool
        If ``True``, :meth:`do` is invoked before every epoch.
    on_resumption : bool, optional
        If ``True``, :meth:`do` is invoked when training is resumed.
    on_interrupt : bool, optional
        If ``True``, :meth:`do` is invoked when training is interrupted.
    after_epoch : bool
        If ``True``, :meth:`do` is invoked after every epoch.
    after_batch : bool
        If ``True``, :meth:`do` is invoked after every batch.
    after_training : bool
        If ``True``, :meth:`do` is invoked after training.
    after_n_epochs : int, optional
        If not ``None``, :meth:`do` is invoked when ``after_n_epochs``
        epochs are done.
    every_n_epochs : int, optional
        If not ``None``, :meth:`do` is invoked after every n-th epoch.
    after_n_batches : int, optional
        If not ``None``, :meth:`do` is invoked when ``after_n_batches``
        batches are processed.
    every_n_batches : int, optional
        If not ``None``, :meth:`do` is invoked after every n-th batch.

    Examples
    --------
    >>> class SayHello(SimpleExtension):
    ...     def do(self, which_callback, *args):
    ...         print('hello from', which_callback)
    >>> extension = SayHello(every_n_batches=100, after_training=True)
    """

    BOOLEAN_TRIGGERS = frozenset(
        ["before_training", "before_first_epoch", "before_epoch",
         "before_batch", "on_resumption", "on_interrupt", "on_error",
         "after_epoch", "after_batch", "after_training"])

    INTEGER_TRIGGERS = frozenset(
        ["after_n_epochs", "after_n_batches", "every_n_epochs",
         "every_n_batches"])

    def __init__(self, **kwargs: Any):
        self._conditions: list[tuple[str, Callable[[Any], bool], Any]] = []
        super_kwargs = {}
        trigger_keywords = self.BOOLEAN_TRIGGERS | self.INTEGER_TRIGGERS
        conditions = {}
        for key, value in kwargs.items():
            if key in trigger_keywords:
                conditions[key] = value
            else:
                super_kwargs[key] = value
        self.set_conditions(**conditions)
        try:
            super().__init__(**super_kwargs)
        except TypeError as exc:
            if 'unexpected keyword argument' not in str(exc):
                raise
            raise TypeError(
                f"{type(self).__name__}: {exc}. The trigger keywords are: "
                f"{', '.join(sorted(trigger_keywords))}") from exc

    def set_conditions(self, **kwargs: Any) -> 'SimpleExtension':
        """Set the conditions for which this extension should be run.

        Takes the trigger keywords of :class:`SimpleExtension` and replaces
        all conditions added so far.

        Returns
        -------
        The extension object (allow chaining calls)
        """
        self._conditions[:] = []
        self._has_unknown_callback = False
        for key, value in kwargs.items():
            if key in self.INTEGER_TRIGGERS:
                if value is None or value is False:
                    continue
                if (isinstance(value, bool) or not isinstance(value, int)
                        or value <= 0):
                    raise ValueError(
                        f"{key} must be a positive integer or None, got "
                        f"{value!r}")
            if not value:
                continue
            if key in self.BOOLEAN_TRIGGERS:
                if key == 'before_first_epoch':
                    self.add_condition(['before_epoch'],
                                       predicate=has_done_epochs)
                else:
                    self.add_condition([key])
            elif key in self.INTEGER_TRIGGERS:
                callback_name = ('after_batch' if key.endswith('batches')
                                 else 'after_epoch')
                self.add_condition([callback_name],
                                   predicate=Predicate(key, value))
            else:
                raise KeyError(f"Invalid condition: {key}")
        self.conditions_changed()
        return self

    def add_condition(self, callbacks_names: list[str] | tuple[str, ...],
                      predicate: Callable[[Any], bool] | None = None,
                      arguments: Iterable[Any] | None = None
                      ) -> 'SimpleExtension':
        """Adds a condition under which a :meth:`do` is called.

        Parameters
        ----------
        callbacks_names : list of str
            The names of the callback in which the method.
        predicate : function
            A predicate function the main loop's log as the single parameter
            and returning ``True`` when the method should be called and
            ``False`` when should not. If ``None``, an always ``True``
            predicate is used.
        arguments : iterable
            Additional arguments to be passed to :meth:`do`. They will be
            concatenated with the ones passed from the main loop (e.g. the
            batch in case of ``after_batch`` callback).

        Returns
        -------
        The extension object (allow chaining calls)
        """
        if not isinstance(callbacks_names, (list, tuple)):
            # ValueError, not TypeError: the reference's API.
            raise ValueError(  # noqa: TRY004
                "callbacks_names must be a list or a tuple of callback "
                f"names, got {callbacks_names!r}")
        for name in callbacks_names:
            if not predicate:
                predicate = always_true
            self._conditions.append((name, predicate, arguments or []))
            if name not in _CALLBACK_NAME_SET:
                self._has_unknown_callback = True
        self.conditions_changed()
        return self

    @abstractmethod
    def do(self, which_callback: str, *args: Any) -> None:
        r"""Does the job of the training extension.

        Parameters
        ----------
        which_callback : str
            The name of the callback in the context of which :meth:`do` is
            run.
        \*args : tuple
            The arguments from the main loop concatenated with additional
            arguments from user.

        Notes
        -----
        Subclasses *must* accept additional positional arguments in their
        call signature for this method, even if they are unused.
        """

    def dispatch(self, callback_invoked: str, *from_main_loop: Any) -> None:
        """Check conditions and call the :meth:`do` method.

        Also adds additional arguments if specified for a condition.
        """
        # Names registered by add_condition are all callback names unless
        # flagged: compare them as plain strings, which is much cheaper.
        # Otherwise CallbackName.__eq__ raises on the unknown name.
        same: Callable[[Any, Any], bool] = (
            CallbackName.__eq__ if self.__dict__.get('_has_unknown_callback')
            else str.__eq__)
        for callback_name, predicate, arguments in self._conditions:
            if (same(callback_invoked, callback_name)
                    and predicate(self.main_loop.log)):
                self.do(callback_invoked,
                        *(from_main_loop + tuple(arguments)))

    def conditions_runner(self, callback_name: CallbackName
                          ) -> Callable[..., None]:
        """A function that does what :meth:`dispatch` does for one callback.

        The main loop's dispatcher calls it instead of :meth:`dispatch`
        (when that is not overridden): the conditions for other callbacks
        are filtered out once, not at every batch. It is asked again after
        :meth:`~TrainingExtension.conditions_changed`.
        """
        if self.__dict__.get('_has_unknown_callback'):
            # Dispatch raises the TypeError that names the unknown callback.
            return partial(self.dispatch, callback_name)
        conditions = [(predicate, tuple(arguments))
                      for name, predicate, arguments in self._conditions
                      if name == callback_name]
        do = self.do

        def run_conditions(*from_main_loop: Any) -> None:
            log = self.main_loop.log
            for predicate, arguments in conditions:
                if predicate(log):
                    do(callback_name, *(from_main_loop + arguments))
        return run_conditions

    def responds_to(self, callback_name: str) -> bool:
        if getattr(self.dispatch, '__func__', None) is not (
                SimpleExtension.dispatch):
            return True
        return self._has_condition_for(callback_name)

    def _has_condition_for(self, callback_name: str) -> bool:
        # A condition under a name that is not a callback (a typo) makes
        # dispatch raise: respond to every callback so that it does.
        if self.__dict__.get('_has_unknown_callback'):
            return True
        return any(name == callback_name for name, _, _ in self._conditions)

    @staticmethod
    def parse_args(which_callback: str, args: Iterable[Any]
                   ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """Separates :meth:`do` arguments coming from different sources.

        Parameters
        ----------
        which_callback : str
            The name of the callback.
        args : iterable
            The arguments.

        Returns
        -------
        from_main_loop : tuple
        from_user : tuple
        """
        args = tuple(args)
        if (which_callback == 'after_batch' or
                which_callback == 'before_batch'):
            return (args[0],), args[1:]
        return (), args


class CompositeExtension(SimpleExtension):
    """An extension that manages several other extensions.

    Parameters
    ----------
    sub_extensions : iterable
        An iterable collection of sub-extensions to manage.
    run_before_children : bool, optional
        Whether the container extension's own logic should be dispatched
        before that of the sub-extensions. If ``False``, the containing
        extension is dispatched last. Defaults to ``True``.

    Notes
    -----
    Sub-extensions are dispatched in the order specified in
    ``sub_extensions``, on whatever triggers they are individually
    configured to respect. The trigger keywords passed to this class only
    affect the outer extension's logic.
    """

    def __init__(self, sub_extensions: Iterable[TrainingExtension],
                 run_before_children: bool = True, **kwargs: Any):
        self.sub_extensions = list(sub_extensions)
        self.run_before_children = run_before_children
        super().__init__(**kwargs)

    def dispatch(self, callback_invoked: str, *from_main_loop: Any) -> None:
        if self.run_before_children:
            super().dispatch(callback_invoked, *from_main_loop)
        for ext in self.sub_extensions:
            ext.dispatch(callback_invoked, *from_main_loop)
        if not self.run_before_children:
            super().dispatch(callback_invoked, *from_main_loop)

    def responds_to(self, callback_name: str) -> bool:
        if getattr(self.dispatch, '__func__', None) is not (
                CompositeExtension.dispatch):
            return True
        return (self._has_condition_for(callback_name)
                or any(ext.responds_to(callback_name)
                       for ext in self.sub_extensions))

    @property
    def main_loop(self) -> Any:
        return super().main_loop

    @main_loop.setter
    def main_loop(self, value: Any) -> None:
        self._main_loop = value
        for sub in self.sub_extensions:
            sub.main_loop = value

    def do(self, which_callback: str, *args: Any) -> None:
        pass
