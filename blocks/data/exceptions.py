"""Exceptions raised by the data layer (Fuel's ``fuel.exceptions``)."""


class AxisLabelsMismatchError(ValueError):
    """A transformer found axis labels other than the ones it expects."""


class ConfigurationError(Exception):
    """A configuration option was read while it has no value."""


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
