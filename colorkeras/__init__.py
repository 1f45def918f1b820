"""colorkeras: automatic image colorization with Keras 3.

The public API is small: build a network by name, list the names, and (for
pretrained models) load and colorize.
"""

__version__ = "0.1.0"

from colorkeras.inference import colorize, load  # noqa: E402
from colorkeras.models import build_model, list_models  # noqa: E402

__all__ = ["build_model", "colorize", "list_models", "load", "__version__"]
