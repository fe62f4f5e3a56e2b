"""Builds the compiled core (src/backprop/_core.c); everything else is in pyproject.toml.

The extension is optional: without a C compiler the install still succeeds and backprop
runs its pure-Python engine, which gives the same results, only slower (docs/performance.md).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("backprop._core", ["src/backprop/_core.c"], optional=True)])
