"""Configuration of the data layer (Fuel's ``fuel.config_parser``).

An option is resolved on every read, in this order: a value assigned in code
(``config.data_path = ...``), the environment variable, the YAML file
(``$FUEL_CONFIG`` or ``~/.fuelrc``), the default. An option with none of those
raises :class:`~blocks.data.exceptions.ConfigurationError`.

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
from collections.abc import Callable
from typing import Any

import yaml

from blocks.data.exceptions import ConfigurationError

NOT_SET = object()

UNSET_MESSAGE = (
    "configuration option {key!r} is not set and has no default; set it in "
    "code (blocks.data.config.{key} = ...), with the environment variable "
    "{env} or in the YAML file ($FUEL_CONFIG or ~/.fuelrc)")


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


class Configuration:
    """A set of options resolved from code, environment, YAML and defaults.

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

    def __init__(self) -> None:
        self.config = {}

    def load_yaml(self) -> None:
        """Read option values from ``$FUEL_CONFIG`` or ``~/.fuelrc``.

        A missing or empty file is ignored. A key that is not a registered
        option raises :class:`ValueError`.

        """
        yaml_file = os.environ.get('FUEL_CONFIG',
                                   os.path.expanduser('~/.fuelrc'))
        if not os.path.isfile(yaml_file):
            return
        with open(yaml_file) as f:
            values = yaml.safe_load(f) or {}
        for key, value in values.items():
            if key not in self.config:
                raise ValueError(f"Unrecognized config in YAML: {key}")
            self.config[key]['yaml'] = value

    def __getattr__(self, key: str) -> Any:
        if key == 'config' or key not in self.config:
            raise AttributeError(f"no configuration option named {key!r}")
        setting = self.config[key]
        if 'value' in setting:
            value = setting['value']
        elif (env := _first_set(setting.get('env_var', ()))) is not None:
            value = os.environ[env]
        elif 'yaml' in setting:
            value = setting['yaml']
        elif 'default' in setting:
            value = setting['default']
        else:
            env = ' or '.join(setting.get('env_var', ())) or '(none)'
            raise ConfigurationError(UNSET_MESSAGE.format(key=key, env=env))
        return setting['type'](value)

    def __setattr__(self, key: str, value: Any) -> None:
        if key != 'config' and key in self.config:
            self.config[key]['value'] = value
        else:
            super().__setattr__(key, value)

    def __delattr__(self, key: str) -> None:
        # Forgets a value assigned in code, as blocks.config does.
        if key in self.config:
            self.config[key].pop('value', None)
        else:
            super().__delattr__(key)

    def add_config(self, key: str, type_: Callable[[Any], Any],
                   default: Any = NOT_SET,
                   env_var: str | tuple[str, ...] | None = None) -> None:
        """Register an option.

        Parameters
        ----------
        key
            Name of the option.
        type_
            Applied to the value on every read.
        default
            Value used when no other source sets the option.
        env_var
            Environment variable(s) read for the option; with several, the
            first one that is set wins.

        """
        self.config[key] = {'type': type_}
        if env_var is not None:
            if isinstance(env_var, str):
                env_var = (env_var,)
            self.config[key]['env_var'] = tuple(env_var)
        if default is not NOT_SET:
            self.config[key]['default'] = default


def _first_set(env_vars: tuple[str, ...]) -> str | None:
    for env_var in env_vars:
        if env_var in os.environ:
            return env_var
    return None


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
