"""Configuration of Blocks.

Options are read, for each option separately, from the first of these that
sets it:

1. a value assigned in code (``config.default_seed = 3``);
2. the option's environment variable, for the options that have one;
3. the YAML configuration file: ``$BLOCKS_CONFIG`` if that variable is set,
   else ``~/.blocksrc``;
4. the option's default.

An option that none of these sets raises :class:`ConfigurationError`. The
value is passed through the option's type on every read, so the string
``'2'`` from an environment variable reads as the integer ``2``.

The options are:

``default_seed`` (int, default ``1``)
    Seed of the default random number generators of bricks.
``recursion_limit`` (int, default ``10000``)
    Python recursion limit while the main loop runs (pickling deep graphs
    recurses a lot).
``profile`` (bool, default ``False``, env ``BLOCKS_PROFILE``)
    Whether the main loop prints its profile when training ends.
``log_backend`` (str, default ``'python'``)
    The training log backend the main loop creates: ``'python'`` or
    ``'sqlite'`` (see :data:`blocks.log.BACKENDS`).
``sqlite_database`` (str, env ``BLOCKS_SQLITEDB``)
    The database file of the ``'sqlite'`` log backend, by default
    ``~/blocks_log.sqlite`` (expanded at import).
``max_blob_size`` (int, default ``4096``)
    Objects the SQLite log pickles into larger blobs than this many bytes
    cause a warning.
``backend`` (str, default ``'default'``, env ``BLOCKS_BACKEND``)
    The backend of every function blocks compiles (see
    :mod:`blocks.compilation`).
``keep_freed_memory`` (bool, default ``True``)
    Whether glibc keeps large freed blocks for reuse instead of returning
    them to the system (see :mod:`blocks.memory`); environment variable
    ``BLOCKS_KEEP_FREED_MEMORY``.

The reference's ``temp_dir`` option (``BLOCKS_TEMPDIR``) is gone: Blocks
writes every file atomically through a temporary file in the target's own
directory and used it nowhere. Setting it warns and does nothing.

A value that the option's type rejects raises :class:`ConfigurationError`
naming the option and where the value came from; ``$BLOCKS_CONFIG`` naming a
file that does not exist is an error; an environment variable that starts
with ``BLOCKS_`` but is not one of Blocks' warns with the closest one.

Examples
--------
>>> from blocks.config import config
>>> config.default_seed
1
>>> config.recursion_limit = 20000
>>> config.recursion_limit
20000
>>> del config.recursion_limit  # forget the value set in code
>>> config.recursion_limit
10000
"""
import difflib
import os
import warnings
from collections.abc import Callable
from typing import Any

import yaml

#: The file read when ``$BLOCKS_CONFIG`` is not set.
DEFAULT_CONFIG_FILE = '~/.blocksrc'

unknown_key_message = """\
Unrecognized config in YAML: {key}

The configuration file {path} sets {key!r}, which is not an option. \
The options are: {options}. Remove or rename the key in that file (or point \
${env_var} to another file)."""

invalid_value_message = """\
invalid value {value!r} for the configuration option {key!r}, set {source}: \
{error}. Correct the value there."""

missing_file_message = """\
${env_var} is {path!r}, which does not exist. Point it to a YAML \
configuration file, or unset it to read {default}."""

unknown_env_var_message = """\
the environment variable {name} is set but is not one of the configuration's \
variables ({known}), so it has no effect.{hint}"""


class _NotSet:
    """The type of :data:`NOT_SET`."""

    def __repr__(self) -> str:
        return 'NOT_SET'

    def __reduce__(self) -> str:
        return 'NOT_SET'


#: Marks an option registered without a default.
NOT_SET = _NotSet()


class ConfigurationError(Exception):
    """A configuration value is requested but not set, or is invalid."""


class Configuration:
    """A set of options, each read from code, environment, YAML or default.

    This class serves both :mod:`blocks.config` and
    :mod:`blocks.data.config`; the class attributes say which file and which
    environment variables belong to a configuration.

    Attributes
    ----------
    config : dict
        Maps every registered option to its settings: ``'type'`` and, when
        present, ``'default'``, ``'env_var'``, ``'yaml'`` (the value from
        the YAML file) and ``'value'`` (the value assigned in code).
    config_file_env_var : str
        The environment variable naming the YAML file.
    default_config_file : str
        The YAML file read when that variable is not set.
    env_var_prefix : str or None
        Environment variables with this prefix that are neither an option's
        nor in ``other_env_vars`` cause a warning when the YAML file is
        loaded. ``None`` checks nothing.
    other_env_vars : tuple of str
        Variables with the prefix that are used elsewhere.
    retired_options : dict
        Option name -> ``(environment variable or None, why it is gone)``.
        Setting one in the YAML file, or its environment variable, warns
        instead of failing.
    code_name : str
        How code reaches the object, for the messages.

    Examples
    --------
    >>> configuration = Configuration()
    >>> configuration.add_config('batch_size', type_=int, default=32)
    >>> configuration.batch_size
    32
    >>> configuration.batch_size = '64'
    >>> configuration.batch_size
    64
    """

    config_file_env_var = 'BLOCKS_CONFIG'
    default_config_file = DEFAULT_CONFIG_FILE
    env_var_prefix: str | None = None
    other_env_vars: tuple[str, ...] = ()
    retired_options: dict[str, tuple[str | None, str]] = {}
    #: The exception raised for unset or invalid options.
    error_class: type[ConfigurationError] = ConfigurationError
    code_name = 'config'
    config: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        self.config = {}

    def load_yaml(self) -> None:
        """Read the YAML configuration file, if it exists and is not empty.

        The file is ``$BLOCKS_CONFIG`` (``$FUEL_CONFIG`` for the data
        layer) if that variable is set, else ``~/.blocksrc``
        (``~/.fuelrc``). Every key must be a registered option and every
        value acceptable to the option's type.

        Raises
        ------
        ValueError
            If the file sets a key that is not a registered option, or does
            not hold a mapping.
        ConfigurationError
            If the variable names a file that does not exist, or the file
            sets an invalid value.
        """
        # Reloading forgets what an earlier file set.
        for settings in self.config.values():
            settings.pop('yaml', None)
        self._check_environment()
        env_var = self.config_file_env_var
        if env_var in os.environ:
            yaml_file = os.environ[env_var]
            if not os.path.isfile(yaml_file):
                raise self.error_class(missing_file_message.format(
                    env_var=env_var, path=yaml_file,
                    default=self.default_config_file))
        else:
            yaml_file = os.path.expanduser(self.default_config_file)
        if not (os.path.isfile(yaml_file) and os.path.getsize(yaml_file)):
            return
        with open(yaml_file) as file:
            settings = yaml.safe_load(file)
        if settings is None:  # only comments
            return
        if not isinstance(settings, dict):
            raise ValueError(
                f"the configuration file {yaml_file} must hold a mapping "
                f"of option names to values, got a "
                f"{type(settings).__name__}")
        for key, value in settings.items():
            if key in self.retired_options:
                warnings.warn(f"the configuration file {yaml_file} sets "
                              f"{key!r}: {self.retired_options[key][1]}",
                              stacklevel=2)
                continue
            if key not in self.config:
                raise ValueError(unknown_key_message.format(
                    key=key, path=yaml_file, env_var=env_var,
                    options=', '.join(sorted(self.config))))
            # Check now, so that a bad file fails where it is read.
            self._convert(key, value, f"in the configuration file {yaml_file}")
            self.config[key]['yaml'] = value

    def _check_environment(self) -> None:
        """Warn about variables with the prefix that nothing reads."""
        prefix = self.env_var_prefix
        if prefix is None:
            return
        known: dict[str, str] = {}  # variable -> what it does
        for key, settings in self.config.items():
            for name in self._env_vars(settings):
                known[name] = f"sets {key}"
        for name in self.other_env_vars:
            known[name] = "is read elsewhere"
        retired = {env_var: why for env_var, why
                   in self.retired_options.values() if env_var is not None}
        for name in os.environ:
            if not name.startswith(prefix) or name in known:
                continue
            if name in retired:
                warnings.warn(f"${name} is set: {retired[name]}",
                              stacklevel=3)
                continue
            # Options without a variable are close matches too: the hint
            # then says where to set them.
            candidates = dict(known)
            for key, settings in self.config.items():
                if 'env_var' not in settings:
                    candidates[prefix + key.upper()] = (
                        f"would be option {key}, which has no environment "
                        f"variable: set it in the YAML file")
            close = difflib.get_close_matches(name, candidates, n=1)
            hint = (f" Did you mean {close[0]} (it {candidates[close[0]]})?"
                    if close else "")
            warnings.warn(unknown_env_var_message.format(
                name=name, known=', '.join(sorted(known)), hint=hint),
                stacklevel=3)

    @staticmethod
    def _env_vars(settings: dict[str, Any]) -> tuple[str, ...]:
        env_var = settings.get('env_var', ())
        return (env_var,) if isinstance(env_var, str) else env_var

    def _convert(self, key: str, value: Any, source: str) -> Any:
        try:
            return self.config[key]['type'](value)
        except (TypeError, ValueError) as error:
            raise self.error_class(invalid_value_message.format(
                value=value, key=key, source=source, error=error)) from None

    def __getattr__(self, key: str) -> Any:
        # Only called for names that are not ordinary attributes.
        if key == 'config' or key not in self.config:
            if key in self.retired_options:
                raise AttributeError(f"the option {key!r} was removed: "
                                     f"{self.retired_options[key][1]}")
            raise AttributeError(
                f"{type(self).__name__!r} has no configuration option "
                f"{key!r}")
        settings = self.config[key]
        env_var = next((name for name in self._env_vars(settings)
                        if name in os.environ), None)
        if 'value' in settings:
            value, source = settings['value'], "in code"
        elif env_var is not None:
            value = os.environ[env_var]
            source = f"by the environment variable {env_var}"
        elif 'yaml' in settings:
            return settings['type'](settings['yaml'])  # checked on loading
        elif 'default' in settings:
            return settings['type'](settings['default'])
        else:
            variables = ' or '.join(f"${name}" for name in
                                    self._env_vars(settings))
            raise self.error_class(
                f"Configuration not set and no default provided: {key}. "
                f"Assign it in code ({self.code_name}.{key} = ...) or set it "
                f"in the YAML configuration file "
                f"(${self.config_file_env_var} or {self.default_config_file})"
                + (f" or in {variables}" if variables else ""))
        return self._convert(key, value, source)

    def __setattr__(self, key: str, value: Any) -> None:
        if key != 'config' and key in self.config:
            self.config[key]['value'] = value
        else:
            super().__setattr__(key, value)

    def __delattr__(self, key: str) -> None:
        # ``del config.<option>`` forgets the value assigned in code.
        if key != 'config' and key in self.config:
            try:
                del self.config[key]['value']
            except KeyError:
                raise AttributeError(
                    f"option {key!r} has no value set in code") from None
        else:
            super().__delattr__(key)

    def add_config(self, key: str, type_: Callable[[Any], Any],
                   default: Any = NOT_SET,
                   env_var: str | tuple[str, ...] | None = None) -> None:
        """Add a configuration setting.

        Parameters
        ----------
        key : str
            The name of the configuration setting. This must be a valid
            Python attribute name i.e. alphanumeric with underscores.
        type_ : callable
            A function such as ``float``, ``int`` or ``str`` which takes
            the configuration value and returns an object of the correct
            type. Note that the values retrieved from environment
            variables are always strings, while those retrieved from the
            YAML file might already be parsed. Hence, the function provided
            here must accept both types of input.
        default : object, optional
            The default configuration to return if not set. By default none
            is set and an error is raised instead.
        env_var : str or tuple of str, optional
            The environment variable name that holds this configuration
            value; with several, the first one that is set wins. If not
            given, this configuration can only be set in code or in the
            YAML configuration file.
        """
        self.config[key] = {'type': type_}
        if env_var is not None:
            self.config[key]['env_var'] = env_var
        if default is not NOT_SET:
            self.config[key]['default'] = default


class _BlocksConfiguration(Configuration):
    """The options of :data:`config`: Blocks' variables and retired names."""

    env_var_prefix = 'BLOCKS_'
    code_name = 'blocks.config.config'
    # Read by the data layer's configuration (blocks.data.config).
    other_env_vars = ('BLOCKS_CONFIG', 'BLOCKS_DATA_PATH')
    retired_options = {'temp_dir': (
        'BLOCKS_TEMPDIR',
        "temp_dir is no longer an option and has no effect: Blocks writes "
        "files through a temporary file in their own directory, then "
        "renames it")}


def bool_(val: Any) -> bool:
    """Like ``bool``, but the string ``'false'`` (any case) is ``False``.

    Examples
    --------
    >>> bool_('False'), bool_('0'), bool_(''), bool_(1)
    (False, True, False, True)
    """
    if isinstance(val, str) and val.lower() == 'false':
        return False
    return bool(val)


def str_or_none(val: Any) -> str | None:
    """Like ``str``, but keeps ``None``.

    The type of the reference's ``temp_dir`` option; kept for options that
    code built on Blocks registers.

    Examples
    --------
    >>> str_or_none(None), str_or_none(3)
    (None, '3')
    """
    return str(val) if val is not None else None


config: Configuration = _BlocksConfiguration()

config.add_config('default_seed', type_=int, default=1)
config.add_config('recursion_limit', type_=int, default=10000)
config.add_config('profile', type_=bool_, default=False,
                  env_var='BLOCKS_PROFILE')
config.add_config('log_backend', type_=str, default='python')
config.add_config('sqlite_database', type_=str,
                  default=os.path.expanduser('~/blocks_log.sqlite'),
                  env_var='BLOCKS_SQLITEDB')
config.add_config('max_blob_size', type_=int, default=4096)
config.add_config('backend', type_=str, default='default',
                  env_var='BLOCKS_BACKEND')
config.add_config('keep_freed_memory', type_=bool_, default=True,
                  env_var='BLOCKS_KEEP_FREED_MEMORY')

config.load_yaml()
