"""colorkeras: automatic image colorization with Keras 3.

The public API is small: build a network by name, list the names, and (for
pretrained models) load and colorize.

``import colorkeras`` is enough for ``keras.saving.load_model`` to load any
file the package writes, with ``safe_mode=True`` (see `registration`). The
names below load on first use, and nothing here imports TensorFlow, so a
command answers ``--help`` or a usage error before TensorFlow starts (see
`cli.quiet_tensorflow`).
"""

import importlib

from colorkeras import registration

__version__ = "0.2.0"

_API = {
    "Colorizer": "colorkeras.colorizer",
    "build_model": "colorkeras.models",
    "colorize": "colorkeras.inference",
    "list_models": "colorkeras.models",
    "load": "colorkeras.inference",
}

__all__ = ["Colorizer", "build_model", "colorize", "list_models", "load", "__version__"]

registration.register_on_keras_import()


def __getattr__(name):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colorkeras' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_API})
