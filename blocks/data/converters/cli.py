"""``blocks-convert``: build a dataset's HDF5 file from its raw files
(Fuel's ``fuel-convert``)."""
import argparse
import importlib
import os
import sys

from blocks.data import config, converters
from blocks.data.converters.base import extra_file_attributes
from blocks.data.datasets.hdf5 import H5PYDataset
from blocks.data.exceptions import MissingInputFiles


class CheckDirectoryAction(argparse.Action):
    """Check that the option's value is an existing directory."""

    def __call__(self, parser: argparse.ArgumentParser,
                 namespace: argparse.Namespace, values: str,
                 option_string: str | None = None) -> None:
        if not os.path.isdir(values):
            parser.error(f"{values} is not an existing directory; create it "
                         "first")
        setattr(namespace, self.dest, values)


def _converters() -> dict:
    available = dict(converters.all_converters)
    for name in config.extra_converters:
        extra = dict(importlib.import_module(name).all_converters)
        clashes = sorted(set(extra) & set(available))
        if clashes:
            raise ValueError(
                f"extra converters of {name} conflict in name with built-in "
                f"converters: {clashes}; rename them")
        available.update(extra)
    return available


def main(args: list[str] | None = None) -> None:
    """Parse the command line and run the chosen converter.

    Parameters
    ----------
    args
        Command-line arguments (default ``sys.argv[1:]``).

    """
    parser = argparse.ArgumentParser(
        prog='blocks-convert',
        description='Conversion script for built-in datasets.')
    subparsers = parser.add_subparsers(dest='which_', required=True)
    parent_parser = argparse.ArgumentParser(add_help=False)
    parent_parser.add_argument(
        "-d", "--directory", help="directory in which input files reside",
        type=str, default=os.getcwd())
    convert_functions = {}
    for name, fill_subparser in _converters().items():
        subparser = subparsers.add_parser(
            name, parents=[parent_parser], help=f'Convert the {name} dataset')
        subparser.add_argument(
            "-o", "--output-directory", help="where to save the dataset",
            type=str, default=os.getcwd(), action=CheckDirectoryAction)
        subparser.add_argument(
            "-r", "--output_filename", help="new name of the created dataset",
            type=str, default=None)
        convert_functions[name] = fill_subparser(subparser)

    args_dict = vars(parser.parse_args(args))
    output_filename = args_dict.pop('output_filename')
    if output_filename is not None:
        if os.path.splitext(output_filename)[1] not in ('.hdf5', '.hdf',
                                                        '.h5'):
            output_filename += '.hdf5'
        args_dict['output_filename'] = output_filename
    convert_function = convert_functions[args_dict.pop('which_')]
    command = [os.path.basename(sys.argv[0])] + (
        sys.argv[1:] if args is None else list(args))
    token = extra_file_attributes.set({
        'h5py_interface_version': H5PYDataset.interface_version.encode(),
        'fuel_convert_version': converters.__version__.encode(),
        'fuel_convert_command': ' '.join(command).encode()})
    try:
        output_paths = convert_function(**args_dict)
    except MissingInputFiles as e:
        message = "\n".join(
            ["The following required files were not found:\n"]
            + [f"   * {filename}" for filename in e.filenames])
        parser.error(message + "\n\nPut them in the input directory (-d); "
                     "they are the files of the original distribution.")
    finally:
        extra_file_attributes.reset(token)
    for path in output_paths:
        print(f"Wrote {path}")


if __name__ == '__main__':
    main()
