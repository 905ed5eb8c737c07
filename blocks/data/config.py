"""Configuration of the data layer (Fuel's ``fuel.config_parser``).

An option is resolved on every read, in this order: a value assigned in code
(``config.data_path = ...``), the environment variable, the YAML file
(``$FUEL_CONFIG`` or ``~/.fuelrc``), the default. An option with none of those
raises :class:`~blocks.data.exceptions.ConfigurationError`. The rules are
those of :mod:`blocks.config`, through the same class.

The module itself stands for the configuration object, as ``fuel.config`` did:
``blocks.data.config.floatX`` reads an option,
``blocks.data.config.data_path = '/data'`` sets one and ``del
blocks.data.config.data_path`` forgets that value again; the same object is
also available as ``blocks.data.config.config``.

=====================  ===============================  =========
option                 environment variable             default
=====================  ===============================  =========
``data_path``          ``BLOCKS_DATA_PATH``,            none
                       ``FUEL_DATA_PATH``
``local_data_path``    ``FUEL_LOCAL_DATA_PATH``         ``""``
``default_seed``       --                               ``1``
``extra_downloaders``  ``FUEL_EXTRA_DOWNLOADERS``       ``[]``
``extra_converters``   ``FUEL_EXTRA_CONVERTERS``        ``[]``
``floatX``             ``FUEL_FLOATX``                  none
=====================  ===============================  =========
"""
import os
import sys
import types
from typing import Any

from blocks.config import NOT_SET
from blocks.config import Configuration as BaseConfiguration
from blocks.data.exceptions import ConfigurationError

__all__ = ['NOT_SET', 'Configuration', 'config', 'extra_downloader_converter',
           'multiple_paths_parser']


def multiple_paths_parser(value: str | list[str]) -> list[str]:
    """Split a string of paths on :data:`os.pathsep`; lists pass through."""
    if isinstance(value, str):
        value = value.split(os.path.pathsep)
    return value


def extra_downloader_converter(value: str | list[str]) -> list[str]:
    """Split a string of module names on spaces; lists pass through."""
    if isinstance(value, str):
        value = value.split(" ")
    return value


class Configuration(BaseConfiguration):
    """:class:`blocks.config.Configuration` reading Fuel's file.

    The YAML file is ``$FUEL_CONFIG`` or ``~/.fuelrc``, and errors are the
    data layer's :class:`~blocks.data.exceptions.ConfigurationError`.

    Examples
    --------
    >>> conf = Configuration()
    >>> conf.add_config('seed', type_=int, default=1)
    >>> conf.seed
    1
    >>> conf.seed = '3'
    >>> conf.seed
    3

    """

    config_file_env_var = 'FUEL_CONFIG'
    default_config_file = '~/.fuelrc'
    error_class = ConfigurationError
    code_name = 'blocks.data.config'


config = Configuration()
config.add_config('data_path', type_=multiple_paths_parser,
                  env_var=('BLOCKS_DATA_PATH', 'FUEL_DATA_PATH'))
config.add_config('local_data_path', type_=str, default="",
                  env_var='FUEL_LOCAL_DATA_PATH')
config.add_config('default_seed', type_=int, default=1)
config.add_config('extra_downloaders', type_=extra_downloader_converter,
                  default=[], env_var='FUEL_EXTRA_DOWNLOADERS')
config.add_config('extra_converters', type_=extra_downloader_converter,
                  default=[], env_var='FUEL_EXTRA_CONVERTERS')
config.add_config('floatX', type_=str, env_var='FUEL_FLOATX')
config.load_yaml()


class _ConfigModule(types.ModuleType):
    """Lets the module stand for ``config``, as ``fuel.config`` did."""

    def __getattr__(self, key: str) -> Any:
        return getattr(config, key)

    def __setattr__(self, key: str, value: Any) -> None:
        if key in config.config:
            setattr(config, key, value)
        else:
            super().__setattr__(key, value)

    def __delattr__(self, key: str) -> None:
        if key in config.config:
            delattr(config, key)
        else:
            super().__delattr__(key)


sys.modules[__name__].__class__ = _ConfigModule
