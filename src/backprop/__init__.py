"""backprop: a gradient calculator, from the command line or from Python.

    >>> import backprop
    >>> r = backprop.grad("sin(2*x+y)", at={"x": 1, "y": 2})
    >>> r.gradient["x"]
    -1.3072872417272239

``grad``, ``compare``, ``paths``, ``hessian``, ``net``, ``check_claims`` (``check``) and
``graph`` run the same jobs as the commands of those names (docs/api.md). They load on
first use, so ``import backprop`` (and the command line's start-up) stays as light as the
version string.
"""

__version__ = "0.1.0"

_API = ("grad", "compare", "paths", "hessian", "net", "check_claims", "graph")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        from backprop import api

        return getattr(api, name)
    raise AttributeError(f"module 'backprop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
