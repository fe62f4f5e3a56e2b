"""Builds the compiled core (src/backprop/engine/_core.c); everything else is in pyproject.toml.

The extension is optional: without a C compiler the install still succeeds, with a warning
on stderr (pip shows it with -v), and backprop runs its pure-Python engine, which gives the
same results, only slower (docs/performance.md); ``backprop --version`` names the engine.
"""

import sys

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import BaseError, CCompilerError, CompileError


class build_ext_or_say_why(build_ext):
    """build_ext that, when the optional core cannot be built, says so once on stderr."""

    def build_extension(self, ext):
        if self.compiler.compiler_type == "unix":  # gcc, clang: no fused multiply-add, so
            ext.extra_compile_args = ["-ffp-contract=off"]  # a*b+c rounds as Python's does
        try:
            super().build_extension(ext)
        except (BaseError, CCompilerError, CompileError) as error:
            if not ext.optional:
                raise
            sys.stderr.write(
                f"WARNING: backprop's compiled core was not built ({error}).\n"
                "WARNING: backprop will run in pure Python: the same results, slower on large "
                "inputs. For the core, install a C compiler and the Python headers, then "
                "reinstall.\n")


# The examples ship inside the package as backprop.examples (``backprop examples`` lists,
# prints and copies them after a wheel install); the folder stays examples/ in the repo.
EXAMPLES = {"backprop.examples": "examples"}

# _core_ops.h is generated from ops.py (python -m backprop.engine.cgen) and committed
setup(packages=find_packages("src") + list(EXAMPLES),
      package_dir={"": "src", **EXAMPLES},
      package_data={"backprop.examples": ["*.md", "*.txt", "*.yaml", "*.sh", "check/*.yaml",
                                          "errors/*.yaml"]},
      ext_modules=[Extension("backprop.engine._core", ["src/backprop/engine/_core.c"],
                             depends=["src/backprop/engine/_core_ops.h"], optional=True)],
      cmdclass={"build_ext": build_ext_or_say_why})
