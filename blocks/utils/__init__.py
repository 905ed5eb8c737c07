"""Utilities; submodules are imported only when one of their names is used.

``import blocks.utils`` and ``from blocks.utils import dict_union`` do not
import PyTensor: the names of :mod:`blocks.utils.theano_utils` are loaded on
first access.
"""
import importlib
import sys
from types import ModuleType

_SUBMODULE_NAMES = {
    'utils': ['pack', 'unpack', 'reraise_as', 'dict_subset', 'dict_union',
              'repr_attrs', 'ipdb_breakpoint', 'print_sum', 'print_shape',
              'change_recursion_limit', 'extract_args', 'find_bricks'],
    'theano_utils': ['shared_floatx_zeros_matching', 'shared_floatx_zeros',
                     'shared_floatx_nans', 'shared_floatx', 'shared_like',
                     'check_theano_variable', 'is_graph_input',
                     'is_shared_variable', 'put_hook'],
}
_NAME_TO_SUBMODULE = {name: submodule
                      for submodule, names in _SUBMODULE_NAMES.items()
                      for name in names}


class UtilsModule(ModuleType):
    """The ``blocks.utils`` module, importing its submodules lazily."""

    __all__ = list(_NAME_TO_SUBMODULE)

    def __getattr__(self, name):
        submodule = _NAME_TO_SUBMODULE.get(name)
        if submodule is None:
            raise AttributeError(
                f"module 'blocks.utils' has no attribute '{name}'")
        module = importlib.import_module(f'{__name__}.{submodule}')
        return getattr(module, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.__all__))


sys.modules[__name__].__class__ = UtilsModule
