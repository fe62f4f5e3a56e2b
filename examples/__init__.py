"""The runnable examples (examples/README.md), shipped inside the package as
``backprop.examples`` so that ``backprop examples`` can list, print and copy them after a
wheel install, where the repository's examples/ folder is not at hand."""
