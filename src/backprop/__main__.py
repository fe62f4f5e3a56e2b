"""``python -m backprop``."""

from .entry import run

run()
