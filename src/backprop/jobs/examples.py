"""The ``examples`` job: the runnable examples shipped in the package (``backprop.examples``,
the repository's examples/ folder), listed with what each shows, one of them read, or all
copied into a folder, so that every ``--help`` example works after a wheel install too."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from backprop.errors import InputError, OutputError

ROW = re.compile(r"^\| `([^`]+)` \| (.+) \|$", re.M)


@dataclass(frozen=True)
class Example:
    name: str  # its path under examples/, e.g. seed004.yaml or check/exercises.yaml
    about: str  # what it shows (examples/README.md's table)


def _root():
    return resources.files("backprop.examples")


def catalog() -> list[Example]:
    """Every example, in examples/README.md's order (the README's table is the list)."""
    return [Example(name, about) for name, about in
            ROW.findall(_root().joinpath("README.md").read_text(encoding="utf-8"))]


def read_example(name: str) -> str:
    """One example's text, by its name in the list."""
    names = [e.name for e in catalog()]
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        raise InputError(f"no example named {name!r}",
                         hint=f"did you mean {close[0]}?" if close
                         else "backprop examples lists them")
    return _root().joinpath(name).read_text(encoding="utf-8")


def copy_examples(folder: str) -> Path:
    """Every example (and the README) into ``folder``/examples, which must not exist yet."""
    target = Path(folder) / "examples"
    if target.exists():
        raise InputError(f"{target} already exists", hint="copy into another folder")
    try:
        for name in ["README.md", *(e.name for e in catalog())]:
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            with resources.as_file(_root().joinpath(name)) as source:
                shutil.copyfile(source, destination)
                if name.endswith(".sh"):
                    destination.chmod(0o755)
    except OSError as error:
        raise OutputError(f"cannot copy the examples into {folder}: "
                          f"{error.strerror or error}") from None
    return target
