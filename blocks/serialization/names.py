"""Names of parameters inside a checkpoint and their persistent ids."""
from collections.abc import Callable
from typing import Any

import numpy

#: Replaces the brick delimiter ``'/'`` in the keys of the ``_parameters``
#: member (kept from the original format, so old files stay readable).
SERIALIZATION_BRICK_DELIMITER = '|'


def _recreate_numpy_ndarray(_: Any, content: Any) -> Any:
    # ``content`` is a fresh array read from the ``_parameters`` archive:
    # no need to copy it again as the original did.
    return content


#: Array type -> the name used in persistent ids. The Theano GPU types of
#: the original (``cuda_ndarray``, ``gpuarray``) have no PyTensor
#: counterpart.
_ARRAY_TYPE_MAP = {numpy.ndarray: 'numpy_ndarray'}
#: Name in persistent ids -> function building the array from its content.
_INVERSE_ARRAY_TYPE_MAP = {'numpy_ndarray': _recreate_numpy_ndarray}


class _Renamer:
    """Give each parameter a unique name in a checkpoint.

    One instance is used per dump, so that a name already given gets a
    ``_2``, ``_3``, ... suffix.

    Attributes
    ----------
    used_names : set
        The names given so far.
    default_name : str
        The name of a parameter with no brick and no name.
    """

    def __init__(self) -> None:
        self.used_names: set[str] = set()
        self.default_name = 'parameter'

    def __call__(self, parameter: Any) -> str:
        # Imported here: the bricks import PyTensor, and reading a
        # checkpoint's parameters does not need them.
        from blocks.filter import get_brick
        brick = get_brick(parameter)
        if brick is not None:
            name = brick.get_hierarchical_name(
                parameter, SERIALIZATION_BRICK_DELIMITER)
        elif hasattr(parameter.tag, 'name'):
            name = parameter.tag.name
        elif parameter.name is not None:
            name = parameter.name
        else:
            name = self.default_name
        if name in self.used_names:
            i = 2
            new_name = f'{name}_{i}'
            while new_name in self.used_names:
                i += 1
                new_name = f'{name}_{i}'
            name = new_name
        self.used_names.add(name)
        return name


def _mangle_parameter_name(parameter: Any, name: str) -> str:
    """The persistent id of a parameter's value: ``#1<type>.<context>.<name>``.

    >>> import numpy, pytensor
    >>> _mangle_parameter_name(pytensor.shared(numpy.zeros(2)), '|mlp.W')
    '#1numpy_ndarray.None.|mlp.W'
    """
    array_type = type(parameter.container.storage[0])
    if array_type not in _ARRAY_TYPE_MAP:
        raise TypeError(
            f"cannot save parameter {name!r}: its value is a "
            f"{array_type.__name__}, and only numpy arrays can be saved")
    # PyTensor has no GPU contexts; the original computed this from the
    # shared variable, which also always gave None.
    context_name = getattr(parameter, 'context_name', None)
    if isinstance(context_name, str) and '.' in context_name:
        raise ValueError(
            f"context name must not contain a dot, got {context_name!r}")
    return f'#1{_ARRAY_TYPE_MAP[array_type]}.{context_name}.{name}'


def _unmangle_parameter_name(
        mangled_name: Any) -> tuple[Callable[..., Any], str, str | None]:
    """Split a persistent id into ``(recreate, name, context_name)``.

    Accepts ``#1<type>.<context>.<name>`` and the older ``#<type>.<name>``;
    ``bytes`` (which pickle protocol 0 produces) are decoded as UTF-8.

    >>> recreate, name, context = _unmangle_parameter_name(
    ...     '#1numpy_ndarray.None.|mlp|linear_0.W')
    >>> name, context
    ('|mlp|linear_0.W', 'None')
    """
    if isinstance(mangled_name, bytes):
        mangled_name = mangled_name.decode('utf8')
    if not isinstance(mangled_name, str):
        raise ValueError("Do not recognize the mangled parameter name")
    if mangled_name.startswith('#1'):
        parts = mangled_name[2:].split('.', 2)
        if len(parts) != 3:
            raise ValueError("Do not recognize the mangled parameter name")
        type_, context_name, name = parts
    elif mangled_name.startswith('#'):
        parts = mangled_name[1:].split('.', 1)
        if len(parts) != 2:
            raise ValueError("Do not recognize the mangled parameter name")
        (type_, name), context_name = parts, None
    else:
        raise ValueError("Do not recognize the mangled parameter name")
    if type_ not in _INVERSE_ARRAY_TYPE_MAP:
        raise ValueError(
            f"Do not recognize the mangled parameter name {mangled_name!r}: "
            f"unknown array type {type_!r}")
    return _INVERSE_ARRAY_TYPE_MAP[type_], name, context_name
