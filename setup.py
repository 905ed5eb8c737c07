"""Minimal shim so that ``pip install -e .`` works with old tooling."""
from setuptools import setup

setup()
