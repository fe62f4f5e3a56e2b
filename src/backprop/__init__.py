"""backprop: a command-line gradient calculator.

The library in one line: ``parse`` text into a ``Graph``, ``evaluate`` it, run a mode from
``backprop.engine.modes`` (forward, paths, reverse) on the op table's local partials.
"""

__version__ = "0.1.0"
