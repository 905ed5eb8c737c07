"""Fuel-compatible data layer: datasets, schemes, streams, transformers.

Code written for Fuel ports by renaming its imports, ``fuel.X`` becoming
``blocks.data.X`` (``fuel.datasets`` -> :mod:`blocks.data.datasets`,
``fuel.transformers`` -> :mod:`blocks.data.transformers`, ...). The package
itself imports nothing, so that importing one submodule stays cheap.
"""
