"""The brick protocol: :class:`Brick`, lazy configuration and applications.

A brick is a parametrized piece of a computation graph. It is configured
(possibly lazily, by a parent brick), allocates its parameters, is applied
to symbolic variables through methods decorated with :func:`application`
and finally has its parameters initialized. See ``docs/bricks.rst`` for the
user-level description.
"""
import inspect
import warnings
from abc import ABCMeta
from collections import OrderedDict
from functools import wraps
from operator import attrgetter

from pytensor.graph.basic import Variable

from blocks.graph.annotations import add_annotation, Annotation
from blocks.roles import add_role, PARAMETER, INPUT, OUTPUT
from blocks.utils import dict_union, pack, repr_attrs, unpack
from blocks.utils.containers import AnnotatingList

__all__ = ['Brick', 'lazy', 'application', 'Application', 'BoundApplication',
           'ApplicationCall', 'BRICK_DELIMITER', 'NoneAllocation',
           'NoneInitialization']

BRICK_DELIMITER = '/'

# The built-in is shadowed by ``Application.property`` in the class body.
property_ = property

_MISSING_CONFIG_HELP = (
    "set it (brick.{name} = ...) or pass it to the constructor, or let a "
    "parent brick push it (e.g. MLP pushes its dims to its layers)")


def create_unbound_method(func, cls):
    """Return `func`: on Python 3 a function is its own unbound method."""
    # Blocks does not call this Python 2 shim; it stays because the
    # reference's blocks.bricks.base exports it and scripts import it.
    return func


def rename_function(function, new_name):
    """Rename a function, fixing ``__name__`` and ``__qualname__``."""
    old_name = function.__name__
    function.__name__ = new_name
    function.__qualname__ = (function.__qualname__[:-len(old_name)] +
                             new_name)
    return function


def _signature_names(function):
    """The argument names of `function`.

    Returns
    -------
    positional : list of str
        Names that can be given positionally (including ``self``).
    varargs : str or None
        The name of the ``*args`` parameter.
    keyword_only : list of str
        Keyword-only names.
    varkw : bool
        Whether the function takes ``**kwargs``.

    """
    params = inspect.signature(function).parameters.values()
    kinds = inspect.Parameter
    positional = [p.name for p in params
                  if p.kind in (kinds.POSITIONAL_ONLY,
                                kinds.POSITIONAL_OR_KEYWORD)]
    varargs = next((p.name for p in params
                    if p.kind == kinds.VAR_POSITIONAL), None)
    keyword_only = [p.name for p in params if p.kind == kinds.KEYWORD_ONLY]
    varkw = any(p.kind == kinds.VAR_KEYWORD for p in params)
    return positional, varargs, keyword_only, varkw


def args_to_kwargs(args, f):
    """Map positional arguments to the argument names of `f`."""
    arg_names, varargs_name, _, _ = _signature_names(f)
    return dict(zip(arg_names + [varargs_name], args))


def _brick_path(brick, delimiter: str = BRICK_DELIMITER) -> str:
    """The path of `brick`, e.g. ``/mlp/linear_0``."""
    return delimiter + delimiter.join(
        b.name for b in brick.get_unique_path())


def _describe(brick) -> str:
    """A short description of `brick` for error messages."""
    return f"{brick.__class__.__name__} {_brick_path(brick)}"


class Parameters(AnnotatingList):
    """Adds the PARAMETER role and the brick annotation to parameters."""

    def __init__(self, brick, *args, **kwargs):
        self.brick = brick
        super().__init__(*args, **kwargs)

    def _setitem(self, key, value):
        if isinstance(value, Variable):
            add_role(value, PARAMETER)
            # Re-assigning the same list must not annotate twice.
            if not any(annotation is self.brick for annotation
                       in getattr(value.tag, 'annotations', [])):
                add_annotation(value, self.brick)


class Children(AnnotatingList):
    """Adds the brick to the list of parents of its children."""

    def __init__(self, brick, *args, **kwargs):
        self.brick = brick
        super().__init__(*args, **kwargs)

    def _setitem(self, key, value):
        if value is not None:
            value.parents.append(self.brick)

    def _delitem(self, key):
        child = self._items[key]
        if child is not None:
            child.parents.remove(self.brick)


class Application:
    """An application method belonging to a particular type of brick.

    The application methods used to build the computation graph of a brick
    are decorated with :func:`application`, which turns them into instances
    of this class. Accessed through a brick instance they become
    :class:`BoundApplication` objects.

    Parameters
    ----------
    application_function : callable
        The application function of the brick (``def apply(self, ...)``).

    Attributes
    ----------
    application_name : str
        The name of the application method (alias ``name``).
    brick : type
        The brick class this application method belongs to.
    delegate_function : str or None
        Name of a brick method returning a bound application that answers
        attribute lookups that find nothing else (see :meth:`delegate`).
    properties : dict
        Maps property names (e.g. ``'inputs'``) to brick method names
        computing them per instance (see :meth:`property`).
    call_stack : list
        The bricks whose applications are being called, innermost last;
        shared by all applications.

    Notes
    -----
    Application objects pickle by reference (``getattr(BrickClass,
    name)``), like ordinary methods.

    """

    call_stack = []

    def __init__(self, application_function):
        self.__doc__ = application_function.__doc__
        self._application_function = application_function
        self.application_name = application_function.__name__
        self.delegate_function = None
        self.properties = {}

    @property_
    def application_function(self):
        """The raw function; after class creation it lives on the brick."""
        if '_application_function' in self.__dict__:
            return self._application_function
        return getattr(self.brick, '_' + self.application_name)

    def _signature(self):
        # Cached: graphs call the same application many times.
        if '_signature_cache' not in self.__dict__:
            self._signature_cache = _signature_names(
                self.application_function)
        return self._signature_cache

    def property(self, name):
        """Decorator to make application properties.

        Parameters
        ----------
        name : str
            The name the property should take.

        Examples
        --------
        >>> class Foo(Brick):
        ...     @application
        ...     def apply(self, x):
        ...         return x + 1
        ...
        ...     @apply.property('inputs')
        ...     def apply_inputs(self):
        ...         return ['foo', 'bar']
        >>> foo = Foo()
        >>> foo.apply.inputs
        ['foo', 'bar']

        """
        if not isinstance(name, str):
            raise ValueError(
                f"an application property name must be a str, got {name!r}")

        def wrap_property(application_property):
            self.properties[name] = application_property.__name__
            return application_property
        return wrap_property

    def delegate(self, f):
        """Pass undefined attribute requests to another application.

        Decorate a brick method that returns a bound application; that
        application then answers attribute lookups (``inputs``,
        ``outputs``, ...) that find nothing on this one.

        """
        self.delegate_function = f.__name__
        return f

    def __get__(self, instance, owner):
        """Instantiate :class:`BoundApplication` for each :class:`Brick`."""
        if instance is None:
            return self
        if '_bound_applications' not in instance.__dict__:
            instance._bound_applications = {}
        key = f"{self.brick.__name__}.{self.application_name}"
        bound = instance._bound_applications.get(key)
        if bound is None:
            bound = instance._bound_applications[key] = BoundApplication(
                self, instance)
        return bound

    def __getattr__(self, name):
        # Mimic the behaviour of properties at the class level: reading
        # one gives the property object, like ``Class.some_property``.
        if 'properties' in self.__dict__ and name in self.properties:
            return property(getattr(self.brick, self.properties[name]))
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        # Mimic the behaviour of read-only properties.
        if 'properties' in self.__dict__ and name in self.properties:
            raise AttributeError("can't set attribute")
        super().__setattr__(name, value)

    @property_
    def inputs(self):
        return self._inputs

    @inputs.setter
    def inputs(self, inputs):
        positional, varargs, keyword_only, _ = self._signature()
        valid = positional + [varargs] + keyword_only
        unexpected = [input_ for input_ in inputs if input_ not in valid]
        if unexpected:
            raise ValueError(
                f"Unexpected inputs: {unexpected} are not arguments of "
                f"{self.application_name}(), whose arguments are "
                f"{[name for name in valid if name is not None]}")
        self._inputs = inputs

    @property_
    def name(self):
        return self.application_name

    def __call__(self, brick, *args, **kwargs):
        """Call the application on `brick` (``Linear.apply(linear, x)``)."""
        if not isinstance(brick, Brick):
            raise TypeError(
                f"{self.application_name}() must be called on a brick "
                f"instance, got {brick!r}")
        bound_application = self.__get__(brick, brick.__class__)
        return self.apply(bound_application, *args, **kwargs)

    def _check_keywords(self, bound_application, kwargs):
        positional, _, keyword_only, varkw = self._signature()
        if varkw:
            return
        valid = positional[1:] + keyword_only
        for name in kwargs:
            if name not in valid:
                try:
                    inputs = list(bound_application.inputs)
                except AttributeError:
                    inputs = valid
                raise TypeError(
                    f"{_describe(bound_application.brick)}: application "
                    f"{self.application_name}() got an unexpected keyword "
                    f"argument '{name}'; its inputs are {inputs}")

    def apply(self, bound_application, *args, **kwargs):
        as_dict = kwargs.pop('as_dict', False)
        as_list = kwargs.pop('as_list', False)
        call_id = kwargs.pop('call_id', None)
        if as_list and as_dict:
            raise ValueError("as_list and as_dict can not both be set")
        self._check_keywords(bound_application, kwargs)

        brick = bound_application.brick

        # The names of the inputs to the application method, without self.
        positional, varargs_name, _, _ = self._signature()
        args_names = positional[1:]

        # The ApplicationCall stores data for this call.
        call = ApplicationCall(bound_application)
        call.metadata['call_id'] = call_id
        args = list(args)
        if 'application' in args_names:
            args.insert(args_names.index('application'), bound_application)
        if 'application_call' in args_names:
            args.insert(args_names.index('application_call'), call)

        # Allocate before applying; nothing initializes automatically.
        if not brick.allocated:
            brick.allocate()

        # Annotate all the input variables which are tensor variables.
        for i, input_ in enumerate(args):
            if isinstance(input_, Variable):
                if i < len(args_names):
                    name = args_names[i]
                else:
                    name = f"{varargs_name}_{i - len(args_names)}"
                args[i] = copy_and_tag(input_, brick, call, INPUT,
                                       self.name, name)
        for name, input_ in kwargs.items():
            if isinstance(input_, Variable):
                kwargs[name] = copy_and_tag(input_, brick, call, INPUT,
                                            self.name, name)

        # Run the application method on the annotated variables.
        last_brick = self.call_stack[-1] if self.call_stack else None
        if (last_brick and brick is not last_brick and
                brick not in last_brick.children):
            warnings.warn(
                f"Brick {last_brick} tries to call brick {brick} which is "
                f"not in the list of its children. This could be caused "
                f"because an @application decorator is missing.",
                stacklevel=2)
        self.call_stack.append(brick)
        try:
            outputs = self.application_function(brick, *args, **kwargs)
            outputs = pack(outputs)
        finally:
            self.call_stack.pop()

        # Rename and annotate output variables.
        for i, output in enumerate(outputs):
            if isinstance(output, Variable):
                try:
                    name = bound_application.outputs[i]
                except AttributeError:
                    name = f"output_{i}"
                except IndexError as exc:
                    raise ValueError(
                        f"Unexpected outputs: {self.application_name}() of "
                        f"{_describe(brick)} returned {len(outputs)} "
                        f"outputs but declares only "
                        f"{list(bound_application.outputs)}") from exc
                outputs[i] = copy_and_tag(outputs[i], brick, call,
                                          OUTPUT, self.name, name)

        if as_list:
            return outputs
        if as_dict:
            return OrderedDict(zip(bound_application.outputs, outputs))
        return unpack(outputs)

    # Application instances are used instead of usual methods in bricks.
    # Methods are not pickled per se, similarly to classes and modules;
    # instead a reference to the method goes into the pickle. Here we
    # ensure the same behaviour for Application instances.
    def __reduce__(self):
        return (getattr, (self.brick, self.application_name))


class BoundApplication:
    """An application method bound to a :class:`Brick` instance.

    Calling it applies the brick. Attributes are looked up on the instance,
    then on the :class:`Application` (properties are evaluated for the
    brick), then on the delegate application, if any.

    """

    def __init__(self, application, brick):
        self.application = application
        self.brick = brick

    def __getattr__(self, name):
        # Prevent infinite loops (e.g. while unpickling).
        if name == 'application':
            raise AttributeError(name)
        # These always belong to the parent (the unbound application).
        if name in ('delegate_function', 'properties'):
            return getattr(self.application, name)
        if name in self.properties.values():
            return getattr(self.application.brick, name)
        if name in self.properties:
            return getattr(self, self.properties[name])(self.brick)
        # First try the parent (i.e. class level), before the delegate.
        try:
            return getattr(self.application, name)
        except AttributeError:
            if self.delegate_function:
                return getattr(getattr(self.brick,
                                       self.delegate_function)(),
                               name)
            raise

    @property
    def name(self):
        return self.application.name

    def __call__(self, *args, **kwargs):
        return self.application.apply(self, *args, **kwargs)


class _Brick(ABCMeta):
    """Metaclass which attaches brick classes to their applications.

    In addition picklability of :class:`Application` objects is ensured.
    This means that :class:`Application` objects can not be added to a
    brick class after it is created. To allow adding application methods
    programmatically, the class namespace is searched for a `decorators`
    attribute, a list of callables ``d(mcs, name, bases, namespace)``
    applied to the namespace of the class being created (this is how
    :class:`.WithExtraDims` works).

    """

    def __new__(mcs, name, bases, namespace, **kwargs):
        decorators = namespace.get('decorators', [])
        for decorator in decorators:
            decorator(mcs, name, bases, namespace)
        for attr in list(namespace.values()):
            if (isinstance(attr, Application) and
                    '_application_function' in attr.__dict__):
                namespace['_' + attr.application_name] = rename_function(
                    attr._application_function, '_' + attr.application_name)
                del attr._application_function
        brick = super().__new__(mcs, name, bases, namespace, **kwargs)
        for attr in namespace.values():
            if isinstance(attr, Application):
                attr.brick = brick
        return brick


class Brick(Annotation, metaclass=_Brick):
    """A brick encapsulates PyTensor operations with parameters.

    A brick goes through the following stages:

    1. Construction: the call to :meth:`__init__` configures the brick
       (dimensions, initialization schemes). Configuration can be left
       out and set later, as an attribute or by a parent brick ("lazy
       initialization", see :func:`lazy`).
    2. Allocation of parameters (:meth:`allocate`): shared variables are
       created for the parameters, filled with NaNs, after the
       allocation configuration has been pushed to the children.
    3. Application: calling a method decorated with :func:`application`
       builds the computation graph, allocating first if needed.
    4. Initialization of parameters (:meth:`initialize`): the parameters
       get their values, after the initialization configuration has been
       pushed to the children. This never happens automatically.

    Parameters
    ----------
    name : str, optional
        The name of this brick, used to build parameter paths. Defaults to
        the lowercased class name.
    children : list of :class:`Brick`, optional
        The children of this brick.

    Attributes
    ----------
    name : str
    children : list of :class:`Brick`
        Bricks whose applications this brick calls. Adding a child appends
        this brick to the child's `parents`.
    parents : list of :class:`Brick`
    parameters : list of :class:`~pytensor.compile.sharedvalue.SharedVariable`
        Created by :meth:`allocate`; every item gets the ``PARAMETER`` role
        and is annotated with this brick. Reading it before the first
        allocation raises :class:`AttributeError`.
    allocated, allocation_config_pushed : bool
    initialized, initialization_config_pushed : bool

    Examples
    --------
    >>> from blocks.bricks import MLP, Tanh
    >>> mlp = MLP([Tanh(), None], [30, 20, 10])
    >>> mlp.allocate()
    >>> layer = mlp.children[0]
    >>> [layer.get_hierarchical_name(p) for p in layer.parameters]
    ['/mlp/linear_0.W', '/mlp/linear_0.b']

    """

    #: Unused by Blocks, as by the reference; it stays because it is part
    #: of the reference's Brick API and scripts may read or set it.
    print_shapes = False

    def __init__(self, name: str | None = None, children=None):
        if name is None:
            name = self.__class__.__name__.lower()
        if children is None:
            children = []

        self.name = name
        self.parents = []
        self.children = children

        self.allocated = False
        self.allocation_config_pushed = False
        self.initialized = False
        self.initialization_config_pushed = False
        super().__init__()

    def __repr__(self):
        return repr_attrs(self, 'name')

    @property
    def parameters(self):
        return self._parameters

    @parameters.setter
    def parameters(self, value):
        self._parameters = Parameters(self, value)

    @property
    def children(self):
        return self._children

    @children.setter
    def children(self, value):
        self._children = Children(self, value)

    def _missing_config(self, kind: str, args, sentinel, none_too=False):
        """Raise a ValueError if any of `args` is not configured."""
        missing = [arg for arg in args
                   if getattr(self, arg, sentinel) is sentinel or
                   (none_too and getattr(self, arg) is None)]
        # Keep the order, drop duplicates of accumulated lazy arguments.
        missing = list(dict.fromkeys(missing))
        if missing:
            names = ', '.join(missing)
            raise ValueError(
                f"{_describe(self)} needs {names}: "
                + _MISSING_CONFIG_HELP.format(name=missing[0])
                + f" ({kind} config not set: {names})")

    def allocate(self) -> None:
        """Allocate shared variables for parameters.

        Based on the current configuration of this :class:`Brick` create
        PyTensor shared variables to store the parameters. After
        allocation, parameters are accessible through the
        :attr:`parameters` attribute.

        This method calls the :meth:`allocate` method of all children
        first, allowing the :meth:`_allocate` method to override the
        parameters of the children if needed.

        Raises
        ------
        ValueError
            If the configuration of this brick is insufficient to
            determine the number of parameters or their dimensionality to
            be initialized.

        Notes
        -----
        This method sets the :attr:`parameters` attribute to an empty
        list. This is in order to ensure that calls to this method
        completely reset the parameters.

        """
        if hasattr(self, 'allocation_args'):
            self._missing_config('allocation', self.allocation_args,
                                 NoneAllocation)
        if not self.allocation_config_pushed:
            self.push_allocation_config()
        for child in self.children:
            child.allocate()
        self.parameters = []
        # Auxiliary variables of the brick describe its parameters (e.g.
        # W_norm); those of the previous allocation are stale.
        self.auxiliary_variables = []
        self._allocate()
        self.allocated = True

    def _allocate(self):
        """Brick implementation of parameter allocation.

        Implement this if your brick needs to allocate its parameters.
        By convention new shared variables are filled with NaNs.

        """

    def initialize(self) -> None:
        """Initialize parameters.

        Initialize the values of the shared variables, after allocating
        them if needed and pushing the initialization configuration to the
        children if that was not done yet. Children are initialized
        first, in the order of :attr:`children`.

        """
        if hasattr(self, 'initialization_args'):
            self._missing_config('initialization', self.initialization_args,
                                 NoneInitialization)
        if not self.allocated:
            self.allocate()
        if not self.initialization_config_pushed:
            self.push_initialization_config()
        for child in self.children:
            child.initialize()
        self._initialize()
        self.initialized = True

    def _initialize(self):
        """Brick implementation of parameter initialization.

        Implement this if your brick needs to initialize its parameters.

        """

    def push_allocation_config(self) -> None:
        """Push the configuration for allocation to child bricks.

        Bricks can configure their children, based on their own current
        configuration. This will be automatically done by a call to
        :meth:`allocate`, but if you want to override the configuration of
        child bricks manually, then you can call this function manually.

        """
        self._push_allocation_config()
        self.allocation_config_pushed = True
        for child in self.children:
            try:
                child.push_allocation_config()
            except Exception:
                self.allocation_config_pushed = False
                raise

    def _push_allocation_config(self):
        """Brick implementation of configuring child before allocation.

        Implement this if your brick needs to set the configuration of its
        children before allocation.

        """

    def push_initialization_config(self) -> None:
        """Push the configuration for initialization to child bricks.

        Bricks can configure their children, based on their own current
        configuration. This will be automatically done by a call to
        :meth:`initialize`, but if you want to override the configuration
        of child bricks manually, then you can call this function
        manually.

        """
        self._push_initialization_config()
        self.initialization_config_pushed = True
        for child in self.children:
            try:
                child.push_initialization_config()
            except Exception:
                self.initialization_config_pushed = False
                raise

    def _push_initialization_config(self):
        """Brick implementation of configuring child before initialization.

        Implement this if your brick needs to set the configuration of its
        children before initialization.

        """

    def get_dim(self, name: str):
        """Get dimension of an input/output variable of a brick.

        Parameters
        ----------
        name : str
            The name of the variable.

        Returns
        -------
        int, tuple or 0
            The size of the last axis, a per-example shape, or 0 for a
            scalar per example.

        """
        raise ValueError(f"No dimension information for {name} available")

    def get_dims(self, names) -> list:
        """Get list of dimensions for a set of input/output variables.

        Parameters
        ----------
        names : list
            The variable names.

        Returns
        -------
        dims : list
            The dimensions of the sources.

        """
        return [self.get_dim(name) for name in names]

    def get_unique_path(self) -> list:
        """Returns unique path to this brick from the application graph.

        When a brick has several parents, the parent with the smallest
        name is followed.

        Returns
        -------
        list of :class:`Brick`
            From the top brick to this one.

        """
        parents = []
        current = self
        while True:
            parents.append(current)
            if current.parents:
                current = min(current.parents, key=attrgetter('name'))
            else:
                break
        return list(reversed(parents))

    def get_hierarchical_name(self, parameter,
                              delimiter: str = BRICK_DELIMITER) -> str:
        """Return hierarchical name for a parameter.

        Returns a path of the form ``brick1/brick2/brick3.parameter1``. The
        delimiter is configurable in case another character (for instance,
        the ``'|'`` of checkpoints) is needed.

        Parameters
        ----------
        parameter : :class:`~pytensor.graph.basic.Variable`
            The variable containing the parameter.
        delimiter : str
            The separator between brick names in the hierarchical name.

        """
        return _brick_path(self, delimiter) + '.' + parameter.name


class LazyNone:
    """A falsy placeholder for configuration that was not given."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name

    def __bool__(self):
        return False

    # Module-level singletons compared with ``is``: keep them unique
    # through pickling and deep copies.
    def __reduce__(self):
        return self.name

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


NoneAllocation = LazyNone('NoneAllocation')
NoneInitialization = LazyNone('NoneInitialization')


def lazy(allocation=None, initialization=None):
    """Makes the initialization lazy.

    This decorator allows the user to define positional arguments which
    will not be needed until the allocation or initialization stage of the
    brick. If these arguments are not passed, it will automatically replace
    them with a custom ``None`` object. It is assumed that the missing
    arguments can be set after initialization by setting attributes with
    the same name.

    Parameters
    ----------
    allocation : list
        A list of argument names that are needed for allocation.
    initialization : list
        A list of argument names that are needed for initialization.

    Examples
    --------
    >>> class SomeBrick(Brick):
    ...     @lazy(allocation=['a'], initialization=['b'])
    ...     def __init__(self, a, b, c='c', d=None):
    ...         print(a, b, c, d)
    >>> brick = SomeBrick('a')
    a NoneInitialization c None
    >>> brick = SomeBrick(d='d', b='b')
    NoneAllocation b c d

    """
    if not allocation:
        allocation = []
    if not initialization:
        initialization = []

    def lazy_wrapper(init):
        arg_names, varargs, _, _ = _signature_names(init)
        # What args_to_kwargs(args, init) maps positionals to, computed once.
        positional_names = arg_names + [varargs]

        def lazy_init(*args, **kwargs):
            self = args[0]
            self.allocation_args = (getattr(self, 'allocation_args', []) +
                                    allocation)
            self.initialization_args = (
                getattr(self, 'initialization_args', []) + initialization)
            if varargs is None and len(args) > len(arg_names):
                raise TypeError(
                    f"{type(self).__name__}() takes at most "
                    f"{len(arg_names) - 1} positional arguments "
                    f"({', '.join(arg_names[1:])}) but {len(args) - 1} "
                    f"were given")
            both = set(arg_names[:len(args)]) & set(kwargs)
            if both:
                raise ValueError(
                    f"{type(self).__name__}() got multiple values for "
                    f"{', '.join(sorted(both))}: given both positionally and "
                    f"as keywords")
            kwargs = dict_union(dict(zip(positional_names, args)), kwargs)
            for allocation_arg in allocation:
                kwargs.setdefault(allocation_arg, NoneAllocation)
            for initialization_arg in initialization:
                kwargs.setdefault(initialization_arg, NoneInitialization)
            return init(**kwargs)
        return wraps(init)(lazy_init)
    return lazy_wrapper


class ApplicationCall(Annotation):
    """A link between the variable tags and bricks.

    The application call can be used to attach to an apply call auxiliary
    variables (e.g. monitors or regularizers) that do not form part of the
    main computation graph.

    The application call object is created before the call to the
    application method and can be accessed by specifying an
    application_call argument.

    Also see :class:`.Annotation`.

    Parameters
    ----------
    application : :class:`BoundApplication` instance
        The bound application (i.e. belong to a brick instance) object
        being called

    Attributes
    ----------
    metadata : dict
        Information about the call, e.g. ``call_id``.

    Examples
    --------
    >>> class Foo(Brick):
    ...     @application
    ...     def apply(self, x, application_call):
    ...         application_call.add_auxiliary_variable(x.mean(),
    ...                                                 name='mean')
    ...         return x + 1
    >>> from pytensor import tensor
    >>> x = tensor.vector('x')
    >>> y = Foo().apply(x)
    >>> from blocks.filter import get_application_call
    >>> call = get_application_call(y)
    >>> [v.name for v in call.auxiliary_variables]
    ['foo_apply_mean']

    """

    def __init__(self, application):
        self.application = application
        self.metadata = {}
        super().__init__()

    def add_auxiliary_variable(self, variable, roles=None, name=None):
        if name:
            variable.name = _variable_name(
                self.application.brick.name, self.application.name, name)
            variable.tag.name = name
            name = None
        add_annotation(variable, self.application.brick)
        return super().add_auxiliary_variable(variable, roles, name)


def application(*args, **kwargs):
    """Decorator for methods that apply a brick to inputs.

    Parameters
    ----------
    \\*args, optional
        The application method to wrap.
    \\*\\*kwargs, optional
        Attributes to attach to this application.

    Notes
    -----
    This decorator replaces application methods with :class:`Application`
    instances. It also sets the attributes given as keyword arguments to
    the decorator.

    Note that this decorator purposely does not wrap the original function
    using :func:`functools.wraps`. As a result, the original function's
    docstring and the application's docstring differ.

    Examples
    --------
    >>> class Foo(Brick):
    ...     @application(inputs=['x'], outputs=['y'])
    ...     def apply(self, x):
    ...         return x + 1
    ...     @application
    ...     def other_apply(self, x):
    ...         return x - 1
    >>> foo = Foo()
    >>> Foo.apply.inputs
    ['x']
    >>> foo.apply.outputs
    ['y']

    """
    if not ((args and not kwargs) or (not args and kwargs)):
        raise ValueError(
            "use @application bare or with keyword arguments only, e.g. "
            "@application(inputs=['x'], outputs=['y'])")
    if args:
        application_function, = args
        return Application(application_function)

    def wrap_application(application_function):
        application = Application(application_function)
        for key, value in kwargs.items():
            setattr(application, key, value)
        return application
    return wrap_application


def _variable_name(brick_name, application_name, name):
    return f"{brick_name}_{application_name}_{name}"


def copy_and_tag(variable, brick, call, role, application_name, name):
    """Helper method to copy a variable and annotate it."""
    copy = variable.copy()
    # PyTensor name
    copy.name = _variable_name(brick.name, application_name, name)
    add_annotation(copy, brick)
    add_annotation(copy, call)
    # Blocks name
    copy.tag.name = name
    add_role(copy, role)
    return copy
