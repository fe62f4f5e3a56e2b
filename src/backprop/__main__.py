"""``python -m backprop``."""

from .cli import run

run()
