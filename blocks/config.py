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
``temp_dir`` (str or None, default ``None``, env ``BLOCKS_TEMPDIR``)
    Directory for temporary files, ``None`` for the system default.

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
import os

import yaml

#: The file read when ``$BLOCKS_CONFIG`` is not set.
DEFAULT_CONFIG_FILE = '~/.blocksrc'

unknown_key_message = """\
Unrecognized config in YAML: {key}

The configuration file {path} sets {key!r}, which is not a Blocks option. \
The options are: {options}. Remove or rename the key in that file (or point \
$BLOCKS_CONFIG to another file)."""


class _NotSet:
    """The type of :data:`NOT_SET`."""

    def __repr__(self):
        return 'NOT_SET'

    def __reduce__(self):
        return 'NOT_SET'


#: Marks an option registered without a default.
NOT_SET = _NotSet()


class ConfigurationError(Exception):
    """Error raised when a configuration value is requested but not set."""


class Configuration:
    """A set of options, each read from code, environment, YAML or default.

    Attributes
    ----------
    config : dict
        Maps every registered option to its settings: ``'type'`` and, when
        present, ``'default'``, ``'env_var'``, ``'yaml'`` (the value from
        the YAML file) and ``'value'`` (the value assigned in code).

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

    def __init__(self):
        self.config = {}

    def load_yaml(self) -> None:
        """Read the YAML configuration file, if it exists and is not empty.

        The file is ``$BLOCKS_CONFIG`` if that variable is set, else
        ``~/.blocksrc``. Every key must be a registered option.

        Raises
        ------
        ValueError
            If the file sets a key that is not a registered option.
        """
        # Reloading forgets what an earlier file set.
        for settings in self.config.values():
            settings.pop('yaml', None)
        if 'BLOCKS_CONFIG' in os.environ:
            yaml_file = os.environ['BLOCKS_CONFIG']
        else:
            yaml_file = os.path.expanduser(DEFAULT_CONFIG_FILE)
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
            if key not in self.config:
                raise ValueError(unknown_key_message.format(
                    key=key, path=yaml_file,
                    options=', '.join(sorted(self.config))))
            self.config[key]['yaml'] = value

    def __getattr__(self, key):
        # Only called for names that are not ordinary attributes.
        if key == 'config' or key not in self.config:
            raise AttributeError(
                f"{type(self).__name__!r} has no option {key!r}")
        settings = self.config[key]
        if 'value' in settings:
            value = settings['value']
        elif 'env_var' in settings and settings['env_var'] in os.environ:
            value = os.environ[settings['env_var']]
        elif 'yaml' in settings:
            value = settings['yaml']
        elif 'default' in settings:
            value = settings['default']
        else:
            raise ConfigurationError(
                f"Configuration not set and no default provided: {key}. "
                f"Assign it in code (config.{key} = ...) or set it in the "
                f"YAML configuration file"
                + (f" or in ${settings['env_var']}" if 'env_var' in settings
                   else ""))
        return settings['type'](value)

    def __setattr__(self, key, value):
        if key != 'config' and key in self.config:
            self.config[key]['value'] = value
        else:
            super().__setattr__(key, value)

    def __delattr__(self, key):
        # ``del config.<option>`` forgets the value assigned in code.
        if key != 'config' and key in self.config:
            try:
                del self.config[key]['value']
            except KeyError:
                raise AttributeError(
                    f"option {key!r} has no value set in code") from None
        else:
            super().__delattr__(key)

    def add_config(self, key: str, type_, default=NOT_SET,
                   env_var: str | None = None) -> None:
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
        env_var : str, optional
            The environment variable name that holds this configuration
            value. If not given, this configuration can only be set in the
            YAML configuration file.
        """
        self.config[key] = {'type': type_}
        if env_var is not None:
            self.config[key]['env_var'] = env_var
        if default is not NOT_SET:
            self.config[key]['default'] = default


def bool_(val) -> bool:
    """Like ``bool``, but the string ``'false'`` (any case) is ``False``.

    Examples
    --------
    >>> bool_('False'), bool_('0'), bool_(''), bool_(1)
    (False, True, False, True)
    """
    if isinstance(val, str) and val.lower() == 'false':
        return False
    return bool(val)


def str_or_none(val) -> str | None:
    """Like ``str``, but keeps ``None``.

    Examples
    --------
    >>> str_or_none(None), str_or_none(3)
    (None, '3')
    """
    return str(val) if val is not None else None


config = Configuration()

config.add_config('default_seed', type_=int, default=1)
config.add_config('recursion_limit', type_=int, default=10000)
config.add_config('profile', type_=bool_, default=False,
                  env_var='BLOCKS_PROFILE')
config.add_config('log_backend', type_=str, default='python')
config.add_config('sqlite_database', type_=str,
                  default=os.path.expanduser('~/blocks_log.sqlite'),
                  env_var='BLOCKS_SQLITEDB')
config.add_config('max_blob_size', type_=int, default=4096)
config.add_config('backend', type_=str, default='default', env_var='BLOCKS_BACKEND')
config.add_config('temp_dir', type_=str_or_none, default=None,
                  env_var='BLOCKS_TEMPDIR')

config.load_yaml()
