"""Exceptions raised by the data layer (Fuel's ``fuel.exceptions``)."""
from blocks.config import ConfigurationError as BaseConfigurationError


class AxisLabelsMismatchError(ValueError):
    """A transformer found axis labels other than the ones it expects."""


class ConfigurationError(BaseConfigurationError):
    """A data configuration option is read while unset, or is invalid.

    A subclass of :class:`blocks.config.ConfigurationError`, so that one
    ``except`` catches the errors of both configurations.

    """


class MissingInputFiles(Exception):
    """Files a converter needs are missing from its input directory.

    Parameters
    ----------
    message
        Description of the problem.
    filenames
        Names of the missing files.

    """

    def __init__(self, message: str, filenames: list[str]) -> None:
        self.filenames = filenames
        super().__init__(message, filenames)


class NeedURLPrefix(Exception):
    """A downloader needs a URL prefix that was not given."""
