"""``python -m backprop``."""

from backprop.entry import run

run()
