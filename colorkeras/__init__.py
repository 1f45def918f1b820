"""colorkeras: automatic image colorization with Keras 3.

The public API is small: build a network by name, list the names, and (for
pretrained models) load and colorize.

The names load on first use, so ``python -m colorkeras.<command>`` can set
TensorFlow's log level before TensorFlow is imported (see `cli.quiet_tensorflow`).
"""

import importlib
import sys
import types

__version__ = "0.2.0"

_API = {
    "Colorizer": "colorkeras.colorizer",
    "build_model": "colorkeras.models",
    "colorize": "colorkeras.inference",
    "list_models": "colorkeras.models",
    "load": "colorkeras.inference",
}

__all__ = ["Colorizer", "build_model", "colorize", "list_models", "load", "__version__"]


def __getattr__(name):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colorkeras' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_API})


class _Package(types.ModuleType):
    """Keeps ``colorkeras.colorize`` the documented function.

    Importing the command module ``colorkeras.colorize`` (as ``python -m``
    or a test does) would make the import system bind the package's
    ``colorize`` to that module. The command stays reachable as
    ``sys.modules["colorkeras.colorize"]`` (``from colorkeras.colorize
    import main`` works); the name belongs to the function.
    """

    def __setattr__(self, name, value):
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
